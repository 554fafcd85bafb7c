// Attacker's checklist, part 1: the Cookie header is hostile input.
// Whatever it holds, parsing is total, bounded and linear, and nothing but a
// single well-formed token of the exact session name ever reaches the store.
import assert from "node:assert/strict";
import { memoryStore } from "../../mod.ts";
import { counting } from "../_helpers.ts";
import {
  forgedToken,
  HTTP,
  HTTPS,
  plantSession,
  type Report,
  reporter,
  request,
} from "./_attack.ts";

const token = "A".repeat(42) + "E"; // well-formed, but unknown to the store

/** Cookie headers that must never reach the store (HTTP: name `session`). */
const HOSTILE: [string, string][] = [
  ["empty", ""],
  ["name with empty value", "session="],
  ["bare name", "session"],
  ["bare name then separator", "session;"],
  ["value without a name", "=" + token],
  ["only an equals sign", "="],
  ["stray separators", ";;; ,,, ; session=;;"],
  ["equals in the name position", "session==" + token],
  ["quoted token", `session="${token}"`],
  ["single-quoted token", `session='${token}'`],
  ["percent-encoded token", "session=" + "%41".repeat(43)],
  ["broken percent-encoding", "session=%ZZ%" + token.slice(3)],
  ["42 characters", "session=" + token.slice(1)],
  ["44 characters", "session=" + token + "A"],
  ["non-canonical last character", "session=" + "A".repeat(42) + "B"],
  ["base64 instead of base64url", "session=" + "+/".repeat(21) + "A"],
  ["padded", "session=" + "A".repeat(42) + "="],
  ["space inside", "session=" + token.slice(0, 20) + " " + token.slice(21)],
  ["tab inside", "session=" + token.slice(0, 20) + "\t" + token.slice(21)],
  ["Latin-1 bytes", "session=" + "\u00e9".repeat(43)],
  ["Latin-1 look-alike", "session=" + token.slice(0, 42) + "\u00c5"],
  ["NBSP around the name", "\u00a0session\u00a0=" + token],
  [
    "control bytes",
    "session=" + String.fromCharCode(1, 2, 8, 11, 12, 27, 31, 127).repeat(5) +
    "AAA",
  ],
  ["name differs in case", "Session=" + token],
  ["name in upper case", "SESSION=" + token],
  ["longer name", "sessionx=" + token],
  ["name as a suffix", "xsession=" + token],
  ["quoted name", `"session"=${token}`],
  ["prefixed name over HTTP", "__Host-session=" + token],
  ["64 KiB of one character", "session=" + "A".repeat(65_536)],
  ["64 KiB of separators", "session" + ";".repeat(65_536)],
  [
    "10,000 cookies, none of them the session",
    Array.from({ length: 10_000 }, (_, i) => `c${i}=v${i}`).join("; ") +
    "; session",
  ],
  ["comma-joined, both halves broken", "session=abc, session=" + token + "x"],
];

Deno.test("hostile Cookie headers never throw, never reach the store, and get a plain response", async (t) => {
  const store = counting(memoryStore());
  const app = reporter({ store });
  for (const [name, cookie] of HOSTILE) {
    await t.step(name, async () => {
      const response = await app(request(HTTP, cookie));
      assert.equal(response.status, 200);
      const report: Report = await response.json();
      assert.equal(report.isNew, true);
      assert.deepEqual(response.headers.getSetCookie(), []);
    });
  }
  await t.step("no Cookie header at all", async () => {
    const response = await app(request(HTTP));
    assert.equal(response.status, 200);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });
  assert.equal(store.reads, 0, "no store read for any of them");
  assert.equal(store.commits.length, 0, "no store write for any of them");
});

Deno.test("the same hostile headers over HTTPS, under __Host-session, never reach the store", async (t) => {
  const store = counting(memoryStore());
  const app = reporter({ store });
  for (const [name, cookie] of HOSTILE) {
    if (name === "prefixed name over HTTP") continue;
    const https = cookie.replaceAll("session", "__Host-session");
    await t.step(name, async () => {
      const response = await app(request(HTTPS, https));
      assert.equal(response.status, 200);
      assert.equal((await response.json() as Report).isNew, true);
    });
  }
  assert.equal(store.reads, 0);
  assert.equal(store.commits.length, 0);
});

Deno.test("a real token is found wherever a well-formed header puts it", async (t) => {
  const store = counting(memoryStore());
  const victim = await plantSession(store, HTTP, "victim");
  const app = reporter({ store });
  const placements: [string, Headers][] = [
    ["alone", new Headers({ cookie: `session=${victim}` })],
    [
      "spaces and tabs around",
      new Headers({ cookie: ` session \t= ${victim}\t;` }),
    ],
    [
      "after 10,000 other cookies",
      new Headers({
        cookie: Array.from({ length: 10_000 }, (_, i) => `c${i}=v`).join("; ") +
          `; session=${victim}`,
      }),
    ],
    [
      'in a second Cookie line, joined with "; " as servers join them',
      new Headers({ cookie: `a=1; b=2; session=${victim}` }),
    ],
    [
      "after hostile junk",
      new Headers({ cookie: `=; ;"x"=y; \u00e9=\u00e9; session=${victim}` }),
    ],
  ];
  for (const [name, headers] of placements) {
    await t.step(name, async () => {
      const before = store.reads;
      const response = await app(new Request(HTTP, { headers }));
      const report: Report = await response.json();
      assert.equal(report.owner, "victim");
      assert.equal(store.reads, before + 1, "exactly one store read");
    });
  }
});

Deno.test("several Cookie header lines count as one header: two session cookies in two lines use neither", async () => {
  const store = counting(memoryStore());
  const victim = await plantSession(store, HTTP, "victim");
  const attacker = await plantSession(store, HTTP, "attacker");
  const app = reporter({ store });
  for (const [first, second] of [[victim, attacker], [attacker, victim]]) {
    const headers = new Headers([
      ["cookie", `session=${first}`],
      ["cookie", `session=${second}`],
    ]);
    const report: Report = await (await app(new Request(HTTP, { headers })))
      .json();
    assert.equal(report.isNew, true);
    assert.equal(report.owner, undefined);
  }
  assert.equal(store.reads, 0);
});

/** Milliseconds for one request carrying `cookie`: the best of three, or
 * the first that is under `enough`. */
async function timeRequest(
  app: (request: Request) => Promise<Response>,
  cookie: string,
  enough = 0,
): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3 && best >= enough; i++) {
    const req = request(HTTP, cookie);
    const start = performance.now();
    await (await app(req)).body?.cancel();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

// Regression: findCookie() once looked for "=" with header.indexOf("=",
// start), which scans past the end of the current pair, so a header of N
// separators cost O(N²): 256 KiB of ";" took ~0.4 s, 1 MiB ~6 s of blocked
// event loop, from one unauthenticated request.
Deno.test("parsing cost stays linear: 256 KiB of separators parses about as fast as 256 KiB of cookies", async (t) => {
  const app = reporter({ store: memoryStore() });
  const size = 262_144;
  const baseline = await timeRequest(app, "a=b; ".repeat(size / 5) + "session");
  for (
    const [name, cookie] of [
      ["semicolons", "session" + ";".repeat(size)],
      ["commas", "session" + ",".repeat(size)],
      ["pairs without '='", "session;a".repeat(size / 9)],
    ] as const
  ) {
    await t.step(name, async () => {
      const limit = 50 + 10 * baseline;
      const ms = await timeRequest(app, cookie, limit);
      assert.ok(
        ms < limit,
        `${name}: ${
          ms.toFixed(1)
        } ms for ${size} bytes (a header of ordinary cookies of the same size: ${
          baseline.toFixed(1)
        } ms)`,
      );
    });
  }
});

Deno.test("parsing cost grows linearly with the number of cookies", async () => {
  const app = reporter({ store: memoryStore() });
  const small = await timeRequest(
    app,
    "a=b; ".repeat(20_000) + `session=${forgedToken()}x`,
  );
  const large = await timeRequest(
    app,
    "a=b; ".repeat(80_000) + `session=${forgedToken()}x`,
  );
  assert.ok(
    large < 20 + 8 * small,
    `4× the cookies took ${large.toFixed(1)} ms vs ${small.toFixed(1)} ms`,
  );
});

Deno.test("a session cookie in a second Cookie header line reaches the session through Deno.serve", async () => {
  const store = memoryStore();
  const victim = await plantSession(store, HTTP, "victim");
  const app = reporter({ store });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => app(new Request(HTTP, { headers: req.headers })),
  );
  try {
    // Raw HTTP/1.1, because fetch() would join the two lines itself.
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.addr.port,
    });
    await conn.write(
      new TextEncoder().encode(
        "GET / HTTP/1.1\r\nHost: example.com\r\nCookie: a=1, b=2\r\n" +
          `Cookie: session=${victim}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const raw = new TextDecoder().decode(
      await new Response(conn.readable).arrayBuffer(),
    );
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    const report: Report = JSON.parse(
      body.slice(body.indexOf("{"), body.lastIndexOf("}") + 1),
    );
    assert.equal(report.owner, "victim");
  } finally {
    await server.shutdown();
  }
});
