// Attacker's checklist, part 5: a misconfiguration that would weaken the
// cookie or the timeouts is refused when withSession() is called, with an
// error that says what to change, not discovered in production.
import assert from "node:assert/strict";
import { memoryStore, type SessionOptions, withSession } from "../../mod.ts";

const DAY = 86_400_000;
const handler = () => new Response("ok");

/** [what is wrong, options, error name, what the message must say] */
const INVALID: [string, unknown, "TypeError" | "RangeError", RegExp][] = [
  ["cookieName empty", { cookieName: "" }, "TypeError", /cookieName/],
  [
    "cookieName with a space",
    { cookieName: "my session" },
    "TypeError",
    /cookieName/,
  ],
  [
    "cookieName with ';' (attribute injection)",
    { cookieName: "s; Domain=evil.com" },
    "TypeError",
    /cookieName/,
  ],
  ["cookieName with '='", { cookieName: "s=x" }, "TypeError", /cookieName/],
  ["cookieName with ','", { cookieName: "a,b" }, "TypeError", /cookieName/],
  ["cookieName with a quote", { cookieName: 's"' }, "TypeError", /cookieName/],
  [
    "cookieName with non-ASCII",
    { cookieName: "s\u00e9ssion" },
    "TypeError",
    /cookieName/,
  ],
  [
    "cookieName with a CR LF (header injection)",
    { cookieName: "s\r\nSet-Cookie: x=y" },
    "TypeError",
    /cookieName/,
  ],
  [
    "cookieName carrying __Host-",
    { cookieName: "__Host-session" },
    "TypeError",
    /cookieName.*prefix/,
  ],
  [
    "cookieName carrying __host- (any case)",
    { cookieName: "__host-session" },
    "TypeError",
    /cookieName.*prefix/,
  ],
  [
    "cookieName carrying __Secure-",
    { cookieName: "__Secure-session" },
    "TypeError",
    /cookieName.*prefix/,
  ],
  ["cookieName not a string", { cookieName: 42 }, "TypeError", /cookieName/],
  [
    "sameSite None without httpsOnly",
    { sameSite: "None" },
    "RangeError",
    /httpsOnly: true/,
  ],
  [
    "sameSite None with httpsOnly false",
    { sameSite: "None", httpsOnly: false },
    "RangeError",
    /httpsOnly: true/,
  ],
  ["sameSite in lower case", { sameSite: "lax" }, "TypeError", /sameSite/],
  ["sameSite unknown", { sameSite: "Loose" }, "TypeError", /sameSite/],
  ["idleTimeout zero", { idleTimeout: 0 }, "RangeError", /idleTimeout/],
  ["idleTimeout negative", { idleTimeout: -1 }, "RangeError", /idleTimeout/],
  ["idleTimeout NaN", { idleTimeout: NaN }, "TypeError", /idleTimeout/],
  [
    "idleTimeout Infinity",
    { idleTimeout: Infinity },
    "TypeError",
    /idleTimeout/,
  ],
  [
    "idleTimeout as a string",
    { idleTimeout: "3600000" },
    "TypeError",
    /idleTimeout/,
  ],
  [
    "idleTimeout absurd (seconds mistaken for ms × 1000)",
    { idleTimeout: 3_600_000_000_000 },
    "RangeError",
    /idleTimeout/,
  ],
  [
    "absoluteTimeout zero",
    { absoluteTimeout: 0 },
    "RangeError",
    /absoluteTimeout/,
  ],
  [
    "absoluteTimeout over 400 days",
    { absoluteTimeout: 401 * DAY },
    "RangeError",
    /absoluteTimeout/,
  ],
  [
    "absoluteTimeout Infinity",
    { absoluteTimeout: Infinity },
    "TypeError",
    /absoluteTimeout/,
  ],
  [
    "touchInterval negative",
    { touchInterval: -1 },
    "RangeError",
    /touchInterval/,
  ],
  [
    "touchInterval longer than idleTimeout (sessions would idle out between touches)",
    { idleTimeout: 60_000, touchInterval: 120_000 },
    "RangeError",
    /touchInterval/,
  ],
  [
    "cookieMaxAge over 400 days",
    { cookieMaxAge: 400 * DAY + 1 },
    "RangeError",
    /cookieMaxAge/,
  ],
  [
    "cookieMaxAge zero (a cookie that is dropped at once)",
    { cookieMaxAge: 0 },
    "RangeError",
    /cookieMaxAge/,
  ],
  [
    "cookieMaxAge under a second (seconds mistaken for ms)",
    { cookieMaxAge: 3600 / 10 },
    "RangeError",
    /cookieMaxAge/,
  ],
  ["cookieMaxAge negative", { cookieMaxAge: -1 }, "RangeError", /cookieMaxAge/],
  ["cookieMaxAge NaN", { cookieMaxAge: NaN }, "TypeError", /cookieMaxAge/],
  ["maxAttempts zero", { maxAttempts: 0 }, "RangeError", /maxAttempts/],
  ["maxAttempts fractional", { maxAttempts: 1.5 }, "RangeError", /maxAttempts/],
  [
    "persistentFieldsOnLogin a string",
    { persistentFieldsOnLogin: "language" },
    "TypeError",
    /persistentFieldsOnLogin/,
  ],
  [
    "persistentFieldsOnLogout with a number",
    { persistentFieldsOnLogout: ["a", 1] },
    "TypeError",
    /persistentFieldsOnLogout/,
  ],
  ["onError not a function", { onError: "503" }, "TypeError", /onError/],
  [
    "store without get/commit",
    { store: { get: () => null } },
    "TypeError",
    /store/,
  ],
  ["options not an object", "strict", "TypeError", /options/],
  [
    "idleTimeout longer than absoluteTimeout (it could never take effect)",
    { idleTimeout: 2 * 3_600_000, absoluteTimeout: 3_600_000 },
    "RangeError",
    /idleTimeout \(7200000 ms\) is longer than absoluteTimeout \(3600000 ms\)/,
  ],
  [
    "cookieMaxAge longer than absoluteTimeout (the cookie outlives its session)",
    { cookieMaxAge: 30 * DAY },
    "RangeError",
    /cookieMaxAge \(2592000000 ms\) is longer than absoluteTimeout \(86400000 ms\)/,
  ],
  [
    "idleTimeout of 1800: seconds typed as milliseconds",
    { idleTimeout: 1800 / 2 },
    "RangeError",
    /idleTimeout is 900 ms: durations are milliseconds.*900000.*allowShortTimeouts/,
  ],
  [
    "absoluteTimeout under a second",
    { absoluteTimeout: 500 },
    "RangeError",
    /absoluteTimeout is 500 ms.*allowShortTimeouts: true/,
  ],
  [
    "cookieMaxAge under a second: no hint at allowShortTimeouts, which does not apply",
    { cookieMaxAge: 500, allowShortTimeouts: true },
    "RangeError",
    /^cookieMaxAge must be from 1000 to \d+ milliseconds, got 500$/,
  ],
  [
    "allowShortTimeouts not a boolean",
    { allowShortTimeouts: "yes" },
    "TypeError",
    /allowShortTimeouts/,
  ],
  [
    "clearSiteData not a boolean",
    { clearSiteData: 1 },
    "TypeError",
    /clearSiteData/,
  ],
  [
    "trustProxy a string",
    { trustProxy: "1" },
    "TypeError",
    /trustProxy/,
  ],
];

Deno.test("withSession() refuses unsafe or nonsensical options at once, saying what to change", async (t) => {
  for (const [what, options, name, message] of INVALID) {
    await t.step(what, () => {
      const withStore = typeof options === "object" && options !== null &&
          !("store" in options)
        ? { store: memoryStore(), ...options }
        : options;
      assert.throws(
        () => withSession(handler, withStore as SessionOptions),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.equal(error.name, name, error.message);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

Deno.test("the limits themselves are accepted", () => {
  const store = memoryStore();
  for (
    const options of [
      { sameSite: "None", httpsOnly: true },
      { sameSite: "Strict" },
      { cookieMaxAge: 400 * DAY, absoluteTimeout: 400 * DAY },
      { cookieMaxAge: 1000 },
      { idleTimeout: 400 * DAY, absoluteTimeout: 400 * DAY },
      { idleTimeout: 60_000, touchInterval: 60_000 },
      { touchInterval: 0 },
      { cookieName: "sid" },
      { cookieName: "Host-session" },
      // Only absoluteTimeout given, shorter than the default idle timeout:
      // the idle timeout follows it.
      { absoluteTimeout: 30 * 60_000 },
      { idleTimeout: 1000, absoluteTimeout: 1000 },
      { idleTimeout: 40, absoluteTimeout: 80, allowShortTimeouts: true },
      { trustProxy: 2 },
      { clearSiteData: true },
    ] satisfies SessionOptions[]
  ) {
    assert.equal(
      typeof withSession(handler, { store, ...options }),
      "function",
      JSON.stringify(options),
    );
  }
});
