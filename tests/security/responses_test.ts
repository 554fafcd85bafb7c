// Attacker's checklist, part 7: what responses carry. One Set-Cookie per
// session cookie, the handler's own cookies kept, nothing a shared cache may
// store or serve to someone else, and cookies a browser will accept.
import assert from "node:assert/strict";
import {
  getSession,
  memoryStore,
  type Session,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { parseSetCookie, STORES } from "../_helpers.ts";
import {
  HTTP,
  HTTPS,
  plantSession,
  request,
  setCookieValue,
} from "./_attack.ts";

type Flow = (session: Session) => void | Promise<void>;

/** Handler flows that touch the cookie more than once in one request. */
const FLOWS: [string, Flow][] = [
  ["set", (s) => s.set("a", 1)],
  ["set, regenerate", async (s) => {
    s.set("a", 1);
    await s.regenerate();
  }],
  ["login, regenerate, set", async (s) => {
    await s.login("ada");
    await s.regenerate();
    s.set("a", 1);
  }],
  ["login, logout, login", async (s) => {
    await s.login("ada");
    await s.logout();
    await s.login("bob");
  }],
  ["set, destroy, set", async (s) => {
    s.set("a", 1);
    await s.destroy();
    s.set("b", 2);
  }],
  ["destroy", (s) => s.destroy()],
  ["logout keeping nothing", async (s) => {
    s.clear();
    await s.logout();
  }],
];

function countByName(response: Response): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of response.headers.getSetCookie()) {
    const { name } = parseSetCookie(line);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

Deno.test("a response carries at most one Set-Cookie per session cookie name", async (t) => {
  const store = memoryStore();
  for (const url of [HTTP, HTTPS]) {
    for (const [name, flow] of FLOWS) {
      for (const existing of [false, true]) {
        await t.step(
          `${name} (${url}, ${existing ? "existing" : "new"} session)`,
          async () => {
            const app = withSession(async (req) => {
              await flow(getSession(req));
              return new Response("done");
            }, { store });
            let cookie: string | undefined;
            if (existing) {
              const token = await plantSession(store, url, "me");
              cookie = `${
                url === HTTPS ? "__Host-session" : "session"
              }=${token}`;
              // Over HTTPS, also present a plain-HTTP session to be erased.
              if (url === HTTPS) {
                cookie += `; session=${await plantSession(store, HTTP, "old")}`;
              }
            }
            const response = await app(request(url, cookie));
            for (const [cookieName, count] of countByName(response)) {
              assert.equal(count, 1, `${count} × ${cookieName}`);
            }
          },
        );
      }
    }
  }
});

Deno.test("the handler's own Set-Cookie headers are kept", async (t) => {
  const store = memoryStore();
  const own = ["theme=dark; Path=/", "lang=de; Path=/; Max-Age=60"];
  await t.step("on a mutable response", async () => {
    const app = withSession((req) => {
      getSession(req).set("a", 1);
      return new Response("x", { headers: own.map((c) => ["set-cookie", c]) });
    }, { store });
    const lines = (await app(request(HTTPS))).headers.getSetCookie();
    assert.deepEqual(lines.slice(0, 2), own);
    assert.deepEqual(lines.map((l) => parseSetCookie(l).name).sort(), [
      "__Host-session",
      "lang",
      "theme",
    ]);
  });
  await t.step(
    "on a response with immutable headers (a fetch() result passed through)",
    async () => {
      const upstream = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        () =>
          new Response("upstream", {
            headers: own.map((c) => ["set-cookie", c]),
          }),
      );
      try {
        const app = withSession(async (req) => {
          getSession(req).set("a", 1);
          return await fetch(`http://127.0.0.1:${upstream.addr.port}/`);
        }, { store });
        const response = await app(request(HTTPS));
        assert.equal(await response.text(), "upstream");
        const names = response.headers.getSetCookie().map((l) =>
          parseSetCookie(l).name
        );
        assert.deepEqual(names.sort(), ["__Host-session", "lang", "theme"]);
      } finally {
        await upstream.shutdown();
      }
    },
  );
});

/** The Cache-Control a response ends with when the handler set `given`. */
async function cacheControlAfter(
  given: string | undefined,
  flow: Flow = (s) => s.set("a", 1),
  cookie?: string,
  store: SessionStore = memoryStore(),
): Promise<string | null> {
  const app = withSession(async (req) => {
    await flow(getSession(req));
    return new Response(
      "x",
      given === undefined ? {} : { headers: { "cache-control": given } },
    );
  }, { store });
  return (await app(request(HTTPS, cookie))).headers.get("cache-control");
}

Deno.test("a response that sets a session cookie can't be stored by a shared cache", async (t) => {
  for (
    const given of [
      undefined,
      "public, max-age=600",
      "PUBLIC, Max-Age=600",
      "max-age=600, s-maxage=600",
      "s-maxage=600",
      "s-maxage = 600, public",
      "no-cache, public",
      "immutable, max-age=31536000, public",
    ]
  ) {
    await t.step(`handler sent ${JSON.stringify(given)}`, async () => {
      const cc = (await cacheControlAfter(given))!;
      assert.ok(cc !== null);
      const directives = cc.split(",").map((d) => d.trim().toLowerCase());
      assert.ok(
        directives.includes("private") || directives.includes("no-store"),
        cc,
      );
      assert.ok(!directives.includes("public"), cc);
      assert.ok(!directives.some((d) => d.startsWith("s-maxage")), cc);
    });
  }
  await t.step(
    "with no Cache-Control at all, the default is private, no-store",
    async () => {
      assert.equal(await cacheControlAfter(undefined), "private, no-store");
    },
  );
  await t.step("a handler's private or no-store is left as it is", async () => {
    assert.equal(
      await cacheControlAfter("private, max-age=60"),
      "private, max-age=60",
    );
    assert.equal(await cacheControlAfter("no-store"), "no-store");
  });
  await t.step(
    "a response that clears the session cookie is private too",
    async () => {
      const store = memoryStore();
      const token = await plantSession(store, HTTPS, "me");
      const app = withSession(async (req) => {
        await getSession(req).destroy();
        return new Response("bye", {
          headers: { "cache-control": "public, max-age=600" },
        });
      }, { store });
      const response = await app(request(HTTPS, `__Host-session=${token}`));
      assert.equal(setCookieValue(response, "__Host-session"), "");
      assert.doesNotMatch(response.headers.get("cache-control")!, /public/);
      assert.match(response.headers.get("cache-control")!, /private/);
    },
  );
});

Deno.test("a response that depends on the session varies on Cookie", async (t) => {
  const store = memoryStore();
  const token = await plantSession(store, HTTPS, "me");
  const cookie = `__Host-session=${token}`;
  const appWith = (headers: HeadersInit) =>
    withSession((req) => {
      getSession(req).get("owner");
      return new Response("x", { headers });
    }, { store });
  await t.step(
    "a read of a presented session, without any cookie set",
    async () => {
      const response = await appWith({})(request(HTTPS, cookie));
      assert.deepEqual(response.headers.getSetCookie(), []);
      assert.equal(response.headers.get("vary"), "Cookie");
    },
  );
  await t.step(
    "a read on a request without a session (the answer depends on the absence)",
    async () => {
      const response = await appWith({})(request(HTTPS));
      assert.equal(response.headers.get("vary"), "Cookie");
    },
  );
  await t.step("a presented session the handler does not read", async () => {
    const app = withSession(() => new Response("x"), { store });
    const response = await app(request(HTTPS, cookie));
    assert.equal(response.headers.get("vary"), "Cookie");
  });
  await t.step("the handler's Vary is extended, not replaced", async () => {
    const response = await appWith({ vary: "Accept-Encoding" })(
      request(HTTPS, cookie),
    );
    assert.equal(response.headers.get("vary"), "Accept-Encoding, Cookie");
  });
  await t.step("Vary: * or an existing Cookie is left alone", async () => {
    assert.equal(
      (await appWith({ vary: "*" })(request(HTTPS, cookie))).headers.get(
        "vary",
      ),
      "*",
    );
    assert.equal(
      (await appWith({ vary: "cookie, Accept" })(request(HTTPS, cookie)))
        .headers.get("vary"),
      "cookie, Accept",
    );
  });
});

Deno.test("Set-Cookie stays within the 4096 bytes browsers accept, with the longest options", async () => {
  const options: SessionOptions = {
    store: memoryStore(),
    cookieName: "s".repeat(64),
    cookieMaxAge: 400 * 86_400_000,
    absoluteTimeout: 400 * 86_400_000,
    sameSite: "None",
    httpsOnly: true,
  };
  const app = withSession((req) => {
    getSession(req).set("a", 1);
    return new Response("x");
  }, options);
  for (const line of (await app(request(HTTPS))).headers.getSetCookie()) {
    assert.ok(new TextEncoder().encode(line).length <= 4096, line);
  }
});

// Regression: cookieName once had no length limit. Browsers drop a cookie
// whose name and value exceed 4096 bytes, so every session silently failed.
Deno.test("a cookieName too long for a 4096-byte cookie is refused at withSession() time", async (t) => {
  for (const length of [1_000, 3_900, 4_000, 4_096, 10_000]) {
    await t.step(`${length} characters`, async () => {
      const cookieName = "s".repeat(length);
      let app: ((request: Request) => Promise<Response>) | undefined;
      try {
        app = withSession((req) => {
          getSession(req).set("a", 1);
          return new Response("x");
        }, {
          store: memoryStore(),
          cookieName,
          cookieMaxAge: 400 * 86_400_000,
          absoluteTimeout: 400 * 86_400_000,
          sameSite: "Strict",
        });
      } catch (error) {
        assert.ok(error instanceof RangeError, String(error));
        assert.match(error.message, /cookieName/);
        return;
      }
      for (const url of [HTTP, HTTPS]) {
        for (const line of (await app(request(url))).headers.getSetCookie()) {
          assert.ok(
            new TextEncoder().encode(line).length <= 4096,
            `a Set-Cookie of ${line.length} bytes was sent; browsers ignore it`,
          );
        }
      }
    });
  }
  assert.throws(
    () =>
      withSession(() => new Response(""), {
        store: memoryStore(),
        cookieName: "s".repeat(4096),
      }),
    RangeError,
  );
});

for (const fixture of STORES) {
  Deno.test(`a response that shows a session is never left to shared caches (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const token = await plantSession(store, HTTPS, "me");
      const cookie = `__Host-session=${token}`;
      const read: Flow = (s) => void s.get("owner");
      for (
        const [given, expected] of [
          ["public, max-age=600", "private, max-age=600"],
          ["s-maxage=600, max-age=60", "private, max-age=60"],
          [undefined, "private"],
          ["private, max-age=60", "private, max-age=60"],
          ["no-store", "no-store"],
          // A qualified private hides only the named headers from shared
          // caches, not the body.
          [
            'max-age=600, private="set-cookie"',
            'private, max-age=600, private="set-cookie"',
          ],
        ] as const
      ) {
        await t.step(
          `a read with the handler's ${JSON.stringify(given)}`,
          async () => {
            assert.equal(
              await cacheControlAfter(given, read, cookie, store),
              expected,
            );
          },
        );
      }
      await t.step(
        "CDN-Cache-Control and Surrogate-Control are dropped, with or without Set-Cookie",
        async () => {
          for (const flow of [read, (s: Session) => s.set("a", 1)]) {
            const app = withSession(async (req) => {
              await flow(getSession(req));
              return new Response("x", {
                headers: {
                  "cdn-cache-control": "max-age=600",
                  "surrogate-control": "max-age=600",
                  "cloudflare-cdn-cache-control": "max-age=600",
                },
              });
            }, { store });
            const response = await app(request(HTTPS, cookie));
            for (
              const name of [
                "cdn-cache-control",
                "surrogate-control",
                "cloudflare-cdn-cache-control",
              ]
            ) {
              assert.equal(response.headers.get(name), null, name);
            }
          }
        },
      );
      await t.step(
        "a response that never touched a session keeps its caching",
        async () => {
          const app = withSession(() =>
            new Response("x", {
              headers: {
                "cache-control": "public, max-age=600",
                "cdn-cache-control": "max-age=600",
              },
            }), { store });
          const response = await app(request(HTTPS));
          assert.equal(
            response.headers.get("cache-control"),
            "public, max-age=600",
          );
          assert.equal(
            response.headers.get("cdn-cache-control"),
            "max-age=600",
          );
        },
      );
    } finally {
      close();
    }
  });
}
