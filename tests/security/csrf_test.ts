// Attacker's checklist, part 10: cross-site request forgery. With
// `csrf: true`, a request with an unsafe method runs its handler only when,
// where the browser says where it comes from, it comes from this site's
// origin (or a trusted one), and it carries the session's CSRF token (header
// or form field) when the session has one; a request without such a session
// passes on the browser's same-origin signals alone.
import assert from "node:assert/strict";
import {
  CSRF_FIELD,
  CSRF_HEADER,
  CsrfError,
  getSession,
  memoryStore,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { Browser, counting, faulty, serveLocal, STORES } from "../_helpers.ts";
import { startServer } from "../runtimes/_process.ts";
import { everythingSent, forgedToken, HTTPS, request } from "./_attack.ts";

const ORIGIN = "https://example.com";

/**
 * An app with CSRF protection. `/token` stores a value (so the visitor has
 * a session) and answers the session's CSRF token; `/form` answers the
 * token without storing anything, as a page with a form does for an
 * anonymous visitor; `/login`, `/logout`, `/regenerate`, `/destroy` do that;
 * anything else echoes what the handler could read of the body.
 */
function csrfApp(
  options: SessionOptions = {},
  inner: SessionStore = memoryStore(),
) {
  const store = counting(inner);
  const calls = { handled: 0 };
  const app = withSession(async (req) => {
    calls.handled++;
    const session = getSession(req);
    const path = new URL(req.url).pathname;
    if (path === "/token") {
      session.set("visited", true);
      return new Response(session.csrfToken());
    }
    if (path === "/form") return new Response(session.csrfToken());
    if (path === "/login") await session.login("ada");
    if (path === "/logout") await session.logout();
    if (path === "/regenerate") await session.regenerate();
    if (path === "/destroy") await session.destroy();
    if (path === "/raw") return Response.json({ handled: true, body: null });
    const type = req.headers.get("content-type") ?? "";
    let body: unknown = null;
    if (
      /^(multipart\/form-data|application\/x-www-form-urlencoded)/.test(type)
    ) {
      const fields: Record<string, string> = {};
      for (const [key, value] of await req.formData()) {
        fields[key] = typeof value === "string"
          ? value
          : `file ${value.name}: ${await value.text()}`;
      }
      body = fields;
    } else if (type.startsWith("application/json")) body = await req.json();
    else if (req.body !== null) body = await req.text();
    return Response.json({ handled: true, body, user: session.userId });
  }, { store, csrf: true, ...options });
  return { app, store, calls, browser: new Browser(app) };
}

/** A browser with a session and its CSRF token. */
async function withToken(
  options: SessionOptions = {},
  inner?: SessionStore,
  url = `${HTTPS}token`,
) {
  const fixture = csrfApp(options, inner);
  const response = await fixture.browser.fetch(url);
  assert.equal(response.status, 200);
  const token = await response.text();
  return { ...fixture, token };
}

/** Runs `fn` once per store of the suite (Deno KV and the memory store). */
async function eachStore(
  t: Deno.TestContext,
  fn: (store: SessionStore) => Promise<void>,
): Promise<void> {
  for (const fixture of STORES) {
    await t.step(fixture.name, async () => {
      const { store, close } = await fixture.open();
      try {
        await fn(store);
      } finally {
        close();
      }
    });
  }
}

/** Sends an unsafe request and returns its status; asserts a 403 ran no handler and wrote nothing. */
async function attempt(
  fixture: Awaited<ReturnType<typeof withToken>>,
  init: RequestInit & { path?: string; url?: string },
): Promise<number> {
  const handled = fixture.calls.handled;
  const commits = fixture.store.commits.length;
  const response = await fixture.browser.fetch(
    init.url ?? HTTPS + (init.path ?? "submit"),
    {
      method: "POST",
      ...init,
    },
  );
  if (response.status === 403) {
    assert.equal(
      fixture.calls.handled,
      handled,
      "a 403 comes before the handler",
    );
    assert.equal(fixture.store.commits.length, commits, "a 403 writes nothing");
    assert.ok(
      !(await everythingSent(response)).includes(fixture.token),
      "a 403 does not reveal the token",
    );
  }
  await response.body?.cancel();
  return response.status;
}

Deno.test("CSRF_FIELD and CSRF_HEADER are exported with the names the suite sends", () => {
  assert.equal(CSRF_FIELD, "_csrf");
  assert.equal(CSRF_HEADER, "x-csrf-token");
});

Deno.test("csrfToken() is per session, created on first use, and stable", async (t) => {
  await t.step(
    "a request that does not ask for it gets no cookie",
    async () => {
      const { browser } = csrfApp();
      const response = await browser.fetch(`${HTTPS}page`);
      assert.deepEqual(response.headers.getSetCookie(), []);
    },
  );
  await t.step("in a session, it is stored with it", async () => {
    const { browser, store, token } = await withToken();
    assert.ok(browser.cookies.has("__Host-session"));
    assert.ok(store.commits.some((c) => c.sets.length > 0), "stored");
    assert.equal(await browser.text(`${HTTPS}form`), token);
    assert.ok(token.length >= 22, "at least 128 bits");
    assert.match(token, /^[\x21-\x7e]+$/, "fits a header and a form field");
    assert.doesNotMatch(token, /[;,"\\]/);
  });
  await t.step("the same token on every request of the session", async () => {
    const { browser, token } = await withToken();
    for (let i = 0; i < 3; i++) {
      assert.equal(await browser.text(`${HTTPS}token`), token);
    }
  });
  await t.step("another session gets another token", async () => {
    const a = await withToken();
    const b = await withToken();
    assert.notEqual(a.token, b.token);
  });
  await t.step(
    "the CSRF token is not the session token, nor part of it",
    async () => {
      const { browser, token } = await withToken();
      const session = browser.cookies.get("__Host-session")!.value;
      assert.notEqual(token, session);
      assert.ok(!token.includes(session) && !session.includes(token));
    },
  );
});

Deno.test("csrfToken() changes on login, logout and regenerate, and the old one stops working", async (t) => {
  for (const how of ["login", "logout", "regenerate"] as const) {
    await t.step(`${how}() within one request`, async () => {
      const store = memoryStore();
      const app = withSession(async (req) => {
        const session = getSession(req);
        session.set("language", "de"); // so that logout keeps a session
        const before = session.csrfToken();
        await session[how]("ada" as never);
        return Response.json({ before, after: session.csrfToken() });
      }, { store });
      const { before, after } = await (await app(request(HTTPS))).json();
      assert.equal(typeof after, "string");
      assert.notEqual(after, before);
    });
    await t.step(
      `${how}() across requests: the old token is refused`,
      async () => {
        const fixture = await withToken();
        const old = fixture.token;
        assert.equal(
          await attempt(fixture, {
            path: how,
            headers: { "x-csrf-token": old },
          }),
          200,
        );
        const fresh = await fixture.browser.text(`${HTTPS}token`);
        assert.notEqual(fresh, old);
        assert.equal(
          await attempt(fixture, { headers: { "x-csrf-token": old } }),
          403,
        );
        assert.equal(
          await attempt({ ...fixture, token: fresh }, {
            headers: { "x-csrf-token": fresh },
          }),
          200,
        );
      },
    );
  }
  await t.step("logout() keeping nothing, then a new token", async () => {
    const store = memoryStore();
    const app = withSession(async (req) => {
      const session = getSession(req);
      const before = session.csrfToken();
      await session.logout();
      return Response.json({ before, after: session.csrfToken() });
    }, { store, persistentFieldsOnLogout: [] });
    const { before, after } = await (await app(request(HTTPS))).json();
    assert.notEqual(after, before);
  });
  await t.step("after destroy() the old token is refused", async () => {
    const fixture = await withToken();
    assert.equal(
      await attempt(fixture, {
        path: "destroy",
        headers: { "x-csrf-token": fixture.token },
      }),
      200,
    );
    assert.equal(
      await attempt(fixture, { headers: { "x-csrf-token": fixture.token } }),
      403,
    );
  });
});

Deno.test("unsafe methods without a valid token are refused with 403 before the handler runs", async (t) => {
  const fixture = await withToken();
  for (
    const method of [
      "POST",
      "PUT",
      "PATCH",
      "DELETE",
      "patch",
      "PROPFIND",
      "PURGE",
      "CONNECTX",
    ]
  ) {
    await t.step(`${method} without a token`, async () => {
      assert.equal(await attempt(fixture, { method }), 403);
    });
    await t.step(`${method} with the token`, async () => {
      assert.equal(
        await attempt(fixture, {
          method,
          headers: { "x-csrf-token": fixture.token },
        }),
        200,
      );
    });
  }
});

Deno.test("safe methods are never blocked, whatever the request says about its origin", async (t) => {
  const fixture = await withToken();
  const hostile = {
    "sec-fetch-site": "cross-site",
    origin: "https://evil.example",
    "x-csrf-token": "wrong",
  };
  for (const method of ["GET", "HEAD", "OPTIONS", "get"]) {
    await t.step(method, async () => {
      const response = await fixture.browser.fetch(`${HTTPS}page`, {
        method,
        headers: hostile,
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
  }
  await t.step("and without any session", async () => {
    const { app } = csrfApp();
    assert.equal(
      (await app(request(`${HTTPS}page`, undefined, { headers: hostile })))
        .status,
      200,
    );
  });
});

Deno.test("a token that is not the session's is refused", async (t) => {
  const fixture = await withToken();
  const other = await withToken();
  const { token } = fixture;
  const flip = (c: string) => (c === "A" ? "B" : "A");
  const wrong: [string, string][] = [
    ["another session's token", other.token],
    ["empty", ""],
    ["the string undefined", "undefined"],
    ["the string null", "null"],
    [
      "the session token instead",
      fixture.browser.cookies.get("__Host-session")!.value,
    ],
    ["last character changed", token.slice(0, -1) + flip(token.at(-1)!)],
    ["first character changed", flip(token[0]!) + token.slice(1)],
    ["one character short", token.slice(0, -1)],
    ["one character more", token + "A"],
    ["twice", token + token],
    ["a prefix", token.slice(0, 8)],
    ["same length, Latin-1", "\u00e9".repeat(token.length)],
    ["64 KiB", "A".repeat(65_536)],
    [
      "another session's token twice, comma-joined",
      `${other.token}, ${other.token}`,
    ],
  ];
  for (const [what, value] of wrong) {
    await t.step(`${what}, as the header`, async () => {
      assert.equal(
        await attempt(fixture, { headers: { "x-csrf-token": value } }),
        403,
      );
    });
    await t.step(`${what}, as the form field`, async () => {
      assert.equal(
        await attempt(fixture, { body: new URLSearchParams({ _csrf: value }) }),
        403,
      );
    });
  }
  await t.step(
    "the right token in the query string (URLs leak through logs and Referer)",
    async () => {
      assert.equal(
        await attempt(fixture, {
          path: `submit?_csrf=${token}&x-csrf-token=${token}`,
        }),
        403,
      );
    },
  );
  await t.step("the right token in a text/plain body", async () => {
    assert.equal(
      await attempt(fixture, {
        body: `_csrf=${token}`,
        headers: { "content-type": "text/plain" },
      }),
      403,
    );
  });
  await t.step(
    "double-submit forgery: a planted _csrf cookie matching the form field",
    async () => {
      const forged = forgedToken();
      fixture.browser.cookies.set("_csrf", { value: forged, secure: true });
      fixture.browser.cookies.set("x-csrf-token", {
        value: forged,
        secure: true,
      });
      try {
        assert.equal(
          await attempt(fixture, {
            body: new URLSearchParams({ _csrf: forged }),
          }),
          403,
        );
        assert.equal(
          await attempt(fixture, { headers: { "x-csrf-token": forged } }),
          403,
        );
      } finally {
        fixture.browser.cookies.delete("_csrf");
        fixture.browser.cookies.delete("x-csrf-token");
      }
    },
  );
});

Deno.test("without a session there is no token to match", async (t) => {
  for (const value of [undefined, "", "undefined", "null", forgedToken()]) {
    await t.step(`header ${JSON.stringify(value)}, no cookie`, async () => {
      const { app, calls } = csrfApp();
      const headers: Record<string, string> = value === undefined
        ? {}
        : { "x-csrf-token": value };
      const response = await app(
        request(`${HTTPS}submit`, undefined, { method: "POST", headers }),
      );
      assert.equal(response.status, 403);
      assert.equal(calls.handled, 0);
      assert.deepEqual(
        response.headers.getSetCookie(),
        [],
        "and no session is created for it",
      );
    });
  }
  await t.step(
    "a forged session cookie with a matching made-up token",
    async () => {
      const { app, calls } = csrfApp();
      const fake = forgedToken();
      const response = await app(
        request(`${HTTPS}submit`, `__Host-session=${forgedToken()}`, {
          method: "POST",
          headers: { "x-csrf-token": fake },
          body: new URLSearchParams({ _csrf: fake }),
        }),
      );
      assert.equal(response.status, 403);
      assert.equal(calls.handled, 0);
    },
  );
  await t.step("a session that never asked for a token", async () => {
    let handled = 0;
    const app = withSession((req) => {
      handled++;
      getSession(req).set("a", 1);
      return new Response("");
    }, { store: memoryStore(), csrf: true });
    const browser = new Browser(app);
    await browser.fetch(`${HTTPS}page`);
    assert.ok(browser.cookies.has("__Host-session"), "a session exists");
    for (const value of ["", "undefined", "null"]) {
      const response = await browser.fetch(`${HTTPS}submit`, {
        method: "POST",
        headers: { "x-csrf-token": value },
      });
      assert.equal(response.status, 403);
    }
    assert.equal(handled, 1, "only the GET was handled");
  });
});

Deno.test("the token is accepted from the header or the form field, and the handler still reads the body", async (t) => {
  const fixture = await withToken();
  const { token } = fixture;
  const send = async (init: RequestInit) => {
    const response = await fixture.browser.fetch(`${HTTPS}submit`, {
      method: "POST",
      ...init,
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()).body;
  };
  await t.step("header, with a JSON body", async () => {
    assert.deepEqual(
      await send({
        headers: { "x-csrf-token": token, "content-type": "application/json" },
        body: '{"item":"book"}',
      }),
      { item: "book" },
    );
  });
  await t.step("header name in any case", async () => {
    assert.equal(
      await send({ headers: { "X-CSRF-Token": token }, body: "raw" }),
      "raw",
    );
  });
  await t.step("urlencoded form field", async () => {
    assert.deepEqual(
      await send({ body: new URLSearchParams({ item: "book", _csrf: token }) }),
      {
        item: "book",
        _csrf: token,
      },
    );
  });
  await t.step(
    "urlencoded, with charset and a broken escape elsewhere",
    async () => {
      const body = await send({
        headers: {
          "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
        },
        body: `x=%ZZ&_csrf=${encodeURIComponent(token)}`,
      });
      assert.equal(body._csrf, token);
    },
  );
  await t.step("multipart form field after a file", async () => {
    const form = new FormData();
    form.set(
      "upload",
      new File(["file contents"], "a.txt", { type: "text/plain" }),
    );
    form.set("_csrf", token);
    assert.deepEqual(await send({ body: form }), {
      upload: "file a.txt: file contents",
      _csrf: token,
    });
  });
  await t.step(
    "header with a malformed multipart body the handler never reads",
    async () => {
      const response = await fixture.browser.fetch(`${HTTPS}raw`, {
        method: "POST",
        headers: {
          "x-csrf-token": token,
          "content-type": "multipart/form-data; boundary=nope",
        },
        body: "not multipart at all",
      });
      assert.notEqual(response.status, 403);
      await response.body?.cancel();
    },
  );
});

Deno.test("a malformed body without a header token is a 403, not a crash", async (t) => {
  const fixture = await withToken();
  for (
    const [what, type, body] of [
      [
        "multipart with the wrong boundary",
        "multipart/form-data; boundary=xyz",
        `--abc\r\ncontent-disposition: form-data; name="_csrf"\r\n\r\n${fixture.token}\r\n--abc--`,
      ],
      ["multipart without a boundary", "multipart/form-data", "garbage"],
      [
        "truncated multipart",
        "multipart/form-data; boundary=xyz",
        '--xyz\r\ncontent-disposition: form-data; name="_csrf"\r\n\r\nAAAA',
      ],
      [
        "urlencoded with a broken escape",
        "application/x-www-form-urlencoded",
        "_csrf=%ZZ",
      ],
      ["urlencoded, empty", "application/x-www-form-urlencoded", ""],
    ] as const
  ) {
    await t.step(what, async () => {
      assert.equal(
        await attempt(fixture, { headers: { "content-type": type }, body }),
        403,
      );
    });
  }
});

Deno.test("cross-site signals refuse a request even with the right token", async (t) => {
  const fixture = await withToken();
  const ok = (headers: Record<string, string>) =>
    attempt(fixture, {
      headers: { "x-csrf-token": fixture.token, ...headers },
    });
  for (const site of ["cross-site", "same-site", "none", "CROSS-SITE", ""]) {
    await t.step(`Sec-Fetch-Site: ${JSON.stringify(site)}`, async () => {
      assert.equal(await ok({ "sec-fetch-site": site }), 403);
    });
  }
  for (
    const origin of [
      "https://evil.example",
      "null",
      "https://example.com:8443",
      "https://example.com.evil.example",
      "https://evilexample.com",
      "https://sub.example.com",
      "https://example.com@evil.example",
      "not a url",
    ]
  ) {
    await t.step(`Origin: ${origin}`, async () => {
      assert.equal(await ok({ origin }), 403);
    });
  }
  await t.step("same origin, as a browser says it, passes", async () => {
    assert.equal(
      await ok({ origin: ORIGIN, "sec-fetch-site": "same-origin" }),
      200,
    );
    assert.equal(await ok({ origin: ORIGIN }), 200);
    assert.equal(await ok({ "sec-fetch-site": "same-origin" }), 200);
  });
  await t.step(
    "same-origin signals are not enough without the token",
    async () => {
      assert.equal(
        await attempt(fixture, {
          headers: { origin: ORIGIN, "sec-fetch-site": "same-origin" },
        }),
        403,
      );
    },
  );
});

Deno.test("csrf is off unless asked for: without the option, unsafe methods reach the handler", async () => {
  const app = withSession(() => new Response("handled"), {
    store: memoryStore(),
  });
  const response = await app(
    request(`${HTTPS}submit`, undefined, { method: "POST" }),
  );
  assert.equal(response.status, 200);
});

// ---- Origin: the full origin, scheme and port included ----

Deno.test("Origin must be this site's full origin: scheme, host and port", async (t) => {
  await eachStore(t, async (inner) => {
    const fixture = await withToken({}, inner);
    const post = (origin: string, url = `${HTTPS}submit`) =>
      fixture.browser.fetch(url, {
        method: "POST",
        headers: { "x-csrf-token": fixture.token, origin },
      }).then(async (response) => {
        await response.body?.cancel();
        return response.status;
      });
    assert.equal(await post(ORIGIN), 200);
    for (
      const origin of [
        "http://example.com", // a plain-HTTP page of the same host
        "http://example.com:443",
        "https://example.com:8443", // another port
        "https://example.com:443", // not how a browser writes it
        "HTTPS://EXAMPLE.COM",
        "https://example.com/",
      ]
    ) {
      assert.equal(await post(origin), 403, origin);
    }
  });
  await t.step("a plain-HTTP site refuses its HTTPS twin", async () => {
    const fixture = await withToken({}, undefined, "http://example.com/token");
    const post = (origin: string) =>
      attemptAt(fixture, "http://example.com/submit", {
        headers: { "x-csrf-token": fixture.token, origin },
      });
    assert.equal(await post("http://example.com"), 200);
    assert.equal(await post("https://example.com"), 403);
    assert.equal(await post("http://example.com:8080"), 403);
  });
  await t.step(
    "an explicit port in the request URL is part of the origin",
    async () => {
      const url = "https://example.com:8443/";
      const fixture = await withToken({}, undefined, `${url}token`);
      const post = (origin: string) =>
        attemptAt(fixture, `${url}submit`, {
          headers: { "x-csrf-token": fixture.token, origin },
        });
      assert.equal(await post("https://example.com:8443"), 200);
      assert.equal(await post("https://example.com"), 403);
      assert.equal(await post("http://example.com:8443"), 403);
    },
  );
});

Deno.test("behind a trusted TLS proxy, Origin must carry the scheme the proxy reports", async (t) => {
  await eachStore(t, async (inner) => {
    const proxied = { "x-forwarded-proto": "https" };
    const fixture = csrfApp({ trustProxy: true }, inner);
    const first = await fixture.browser.fetch("http://example.com/token", {
      headers: proxied,
    });
    const token = await first.text();
    assert.ok(
      fixture.browser.cookies.has("__Host-session"),
      "an HTTPS session",
    );
    // The jar sends a Secure cookie over https: URLs only; behind the proxy
    // the app sees http:, so send it as the browser would.
    const cookie = fixture.browser.header(HTTPS)!;
    const post = (origin: string) =>
      attemptAt({ ...fixture, token }, "http://example.com/submit", {
        headers: { ...proxied, cookie, "x-csrf-token": token, origin },
      });
    assert.equal(await post("https://example.com"), 200);
    assert.equal(await post("http://example.com"), 403);
    assert.equal(await post("https://example.com:8080"), 403);
  });
});

Deno.test("Origin: null passes only when Sec-Fetch-Site vouches for the same origin", async (t) => {
  // A same-origin form on a page with `Referrer-Policy: no-referrer` sends
  // `Origin: null`; so do sandboxed frames and cross-origin redirects, which
  // Sec-Fetch-Site shows as cross-site.
  await eachStore(t, async (inner) => {
    const fixture = await withToken({}, inner);
    const post = (headers: Record<string, string>) =>
      attempt(fixture, {
        headers: { "x-csrf-token": fixture.token, origin: "null", ...headers },
      });
    assert.equal(await post({ "sec-fetch-site": "same-origin" }), 200);
    assert.equal(await post({}), 403);
    assert.equal(await post({ "sec-fetch-site": "cross-site" }), 403);
    assert.equal(await post({ "sec-fetch-site": "same-site" }), 403);
  });
});

// ---- the form body: bounded, and still the handler's to read ----

/** {@link attempt} at a full URL. */
function attemptAt(
  fixture: Awaited<ReturnType<typeof withToken>>,
  url: string,
  init: RequestInit,
): Promise<number> {
  return attempt(fixture, { ...init, url });
}

/** Serves `app` on a free 127.0.0.1 port while `fn` runs, and stops it. */
async function withServer(
  app: (request: Request) => Promise<Response>,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = serveLocal(app);
  try {
    await fn(`${server.origin}/`);
  } finally {
    await server.close();
  }
}

/** A body that yields `chunk`-byte pieces up to `total` bytes, counting what was pulled. */
function streamingBody(chunk: number, total: number) {
  const counter = { pulled: 0, cancelled: false };
  const piece = new TextEncoder().encode("a".repeat(chunk));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= total) return controller.close();
      counter.pulled += piece.byteLength;
      controller.enqueue(piece.slice());
    },
    cancel() {
      counter.cancelled = true;
    },
  });
  return { body, counter };
}

Deno.test("a form body over maxFormBytes is refused with 413 before it is buffered", async (t) => {
  await eachStore(t, async (inner) => {
    const fixture = await withToken({
      csrf: { maxFormBytes: 64 * 1024 },
    }, inner);
    const form = (size: number) => {
      const head = `${CSRF_FIELD}=${fixture.token}&pad=`;
      return head + "a".repeat(size - head.length);
    };
    const type = { "content-type": "application/x-www-form-urlencoded" };
    assert.equal(
      await attempt(fixture, { body: form(64 * 1024), headers: type }),
      200,
      "exactly the limit",
    );
    assert.equal(
      await attempt(fixture, { body: form(64 * 1024 + 1), headers: type }),
      413,
      "one byte over, with its Content-Length",
    );
    // No Content-Length (chunked from a real client): counted while read.
    const { body, counter } = streamingBody(16 * 1024, 64 * 1024 * 1024);
    const handled = fixture.calls.handled;
    const response = await fixture.browser.fetch(`${HTTPS}submit`, {
      method: "POST",
      headers: type,
      body,
      duplex: "half",
    } as RequestInit);
    assert.equal(response.status, 413);
    assert.match(await response.text(), /maxFormBytes/);
    assert.equal(fixture.calls.handled, handled, "the handler did not run");
    assert.ok(
      counter.pulled <= 64 * 1024 + 4 * 16 * 1024,
      `read ${counter.pulled} bytes of a 64 MiB body`,
    );
    assert.ok(counter.cancelled, "the rest of the body was cancelled");
  });
  await t.step("the default is 1 MiB", async () => {
    const fixture = await withToken();
    const head = `${CSRF_FIELD}=${fixture.token}&pad=`;
    const form = (size: number) => ({
      body: head + "a".repeat(size - head.length),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(await attempt(fixture, form(1_048_576)), 200);
    assert.equal(await attempt(fixture, form(1_048_577)), 413);
  });
  await t.step("the header token needs no body read at all", async () => {
    const fixture = await withToken({ csrf: { maxFormBytes: 1024 } });
    const { body, counter } = streamingBody(16 * 1024, 256 * 1024);
    const response = await fixture.browser.fetch(`${HTTPS}raw`, {
      method: "POST",
      headers: {
        "x-csrf-token": fixture.token,
        "content-type": "application/x-www-form-urlencoded",
      },
      body,
      duplex: "half",
    } as RequestInit);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.ok(counter.pulled <= 2 * 16 * 1024, "not read by the check");
  });
  await t.step("over a real connection, without Content-Length", async () => {
    const { app } = csrfApp({ csrf: { maxFormBytes: 64 * 1024 } });
    await withServer(app, async (base) => {
      const page = await fetch(`${base}token`);
      const token = await page.text();
      const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
      const { body, counter } = streamingBody(16 * 1024, 8 * 1024 * 1024);
      const response = await fetch(`${base}submit`, {
        method: "POST",
        headers: {
          cookie,
          "content-type": "application/x-www-form-urlencoded",
          origin: base.slice(0, -1),
        },
        body,
      });
      assert.equal(response.status, 413);
      await response.body?.cancel();
      assert.ok(
        counter.pulled < 8 * 1024 * 1024,
        `the client was not made to send it all (${counter.pulled} bytes)`,
      );
      // The same form, small enough, passes on that connection's session.
      const small = await fetch(`${base}submit`, {
        method: "POST",
        headers: { cookie, origin: base.slice(0, -1) },
        body: new URLSearchParams({ [CSRF_FIELD]: token, item: "book" }),
      });
      assert.equal(small.status, 200);
      assert.equal((await small.json()).body.item, "book");
    });
  });
  await t.step("maxFormBytes must be a whole number of bytes", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, "1024"]) {
      assert.throws(
        () =>
          withSession(() => new Response(), {
            store: memoryStore(),
            csrf: { maxFormBytes: bad as number },
          }),
        RangeError,
        String(bad),
      );
    }
  });
});

Deno.test("the handler reads a form body the check read, on the same Request object", async (t) => {
  await eachStore(t, async (inner) => {
    const { token, browser } = await withToken({}, inner);
    let seen: Request | undefined;
    let report: Record<string, unknown> = {};
    const store = inner;
    const app = withSession(async (req) => {
      seen = req;
      const copy = req.clone();
      const form = await req.formData();
      let again = "no error";
      try {
        await req.text();
      } catch (error) {
        again = (error as Error).name;
      }
      report = {
        item: form.get("item"),
        used: req.bodyUsed,
        again,
        copy: await copy.text(),
        user: getSession(req).userId,
      };
      return new Response("ok");
    }, { store, csrf: true });
    const sent = new Request(`${HTTPS}submit`, {
      method: "POST",
      headers: { cookie: browser.header(HTTPS)! },
      body: new URLSearchParams({ item: "book", [CSRF_FIELD]: token }),
    });
    // withToken's app and this one share the store, so the session is there.
    const response = await app(sent);
    assert.equal(response.status, 200);
    assert.equal(seen, sent, "the same object (Bun's requestIP keys on it)");
    assert.deepEqual(report, {
      item: "book",
      used: true,
      again: "TypeError",
      copy: `item=book&${CSRF_FIELD}=${token}`,
      user: null,
    });
  });
});

Deno.test("a form post through Deno.serve prints no warning (request.clone() made Deno 2.9 warn)", async (t) => {
  for (const store of ["memory", "kv"]) {
    await t.step(store, async () => {
      const server = await startServer(Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1",
        new URL("./_csrf_server.ts", import.meta.url).pathname,
        store,
      ]);
      try {
        const page = await fetch(`${server.url}/token`);
        const token = await page.text();
        const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
        for (const item of ["book", "pen"]) {
          const response = await fetch(`${server.url}/submit`, {
            method: "POST",
            headers: { cookie, origin: server.url },
            body: new URLSearchParams({ item, [CSRF_FIELD]: token }),
          });
          assert.equal(response.status, 200);
          assert.equal(await response.text(), `got ${item}`);
        }
      } finally {
        await server.close();
      }
      assert.equal(
        server.output().replace(/^listening on .*\n/m, ""),
        "",
        "nothing but the listening line",
      );
    });
  }
});

// ---- answering a refusal through the app ----

Deno.test("a refusal reaches onError as a CsrfError with its reason; the default answers 403 as before", async (t) => {
  const cases: [string, string, RequestInit][] = [
    ["cross-site", "/submit", { headers: { "sec-fetch-site": "cross-site" } }],
    ["origin", "/submit", { headers: { origin: "https://evil.example" } }],
    ["no-session-token", "/anonymous", {}],
    ["missing-token", "/submit", {}],
    ["wrong-token", "/submit", { headers: { "x-csrf-token": "nope" } }],
    ["unreadable-form", "/submit", {
      headers: { "content-type": "multipart/form-data" },
      body: "garbage",
    }],
    ["form-too-large", "/submit", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a".repeat(2048),
    }],
  ];
  await eachStore(t, async (inner) => {
    const seen: unknown[] = [];
    const custom = await withToken({
      csrf: { maxFormBytes: 1024 },
      onError(error, req) {
        seen.push(error);
        assert.ok(req instanceof Request);
        return new Response("<p>Reload the page</p>", {
          status: error instanceof CsrfError ? error.status : 500,
          headers: { "content-type": "text/html" },
        });
      },
    }, inner);
    const byDefault = await withToken({ csrf: { maxFormBytes: 1024 } });
    for (const [reason, path, init] of cases) {
      const url = path === "/anonymous" ? `${HTTPS}submit` : HTTPS + path;
      seen.length = 0;
      const jar = path === "/anonymous"
        ? new Browser(custom.app)
        : custom.browser;
      const handled = custom.calls.handled;
      const response = await jar.fetch(url, { method: "POST", ...init });
      assert.equal(custom.calls.handled, handled, `${reason}: no handler`);
      assert.equal(seen.length, 1, `${reason}: onError called once`);
      const error = seen[0];
      assert.ok(error instanceof CsrfError, reason);
      assert.equal(error.reason, reason);
      assert.equal(error.name, "CsrfError");
      assert.equal(error.status, reason === "form-too-large" ? 413 : 403);
      assert.ok(!error.message.includes(custom.token), "no token in it");
      assert.equal(response.status, error.status);
      assert.equal(await response.text(), "<p>Reload the page</p>");

      const jar2 = path === "/anonymous"
        ? new Browser(byDefault.app)
        : byDefault.browser;
      const plain = await jar2.fetch(url, { method: "POST", ...init });
      assert.equal(plain.status, error.status);
      assert.equal(
        plain.headers.get("content-type"),
        "text/plain; charset=utf-8",
      );
      assert.match(
        await plain.text(),
        /^(Forbidden|Content Too Large): CSRF check failed: /,
      );
      assert.deepEqual(plain.headers.getSetCookie(), []);
    }
  });
  await t.step("store errors still reach onError as before", async () => {
    const errors: unknown[] = [];
    const broken = faulty(memoryStore());
    broken.onGet = () => new Error("down");
    const app = withSession(() => new Response("handled"), {
      store: broken,
      csrf: true,
      onError(error) {
        errors.push(error);
        return new Response("later", { status: 503 });
      },
    });
    const response = await app(
      request(`${HTTPS}submit`, `__Host-session=${forgedToken()}`, {
        method: "POST",
      }),
    );
    assert.equal(response.status, 503);
    assert.ok(!(errors[0] instanceof CsrfError));
  });
});

// ---- exemptions and trusted origins ----

Deno.test("csrf.exempt lets chosen requests (webhooks) through without any check", async (t) => {
  await eachStore(t, async (inner) => {
    const asked: string[] = [];
    const fixture = await withToken({
      csrf: {
        exempt(req) {
          asked.push(`${req.method} ${new URL(req.url).pathname}`);
          return new URL(req.url).pathname.startsWith("/webhooks/");
        },
      },
    }, inner);
    const hostile = {
      "sec-fetch-site": "cross-site",
      origin: "https://payments.example",
    };
    assert.equal(
      await attempt(fixture, { path: "webhooks/paid", headers: hostile }),
      200,
    );
    assert.equal(await attempt(fixture, { path: "webhooks/paid" }), 200);
    assert.equal(await attempt(fixture, { headers: hostile }), 403);
    assert.equal(
      await attempt(fixture, {
        path: "webhooks-not/paid",
        headers: { "x-csrf-token": fixture.token, ...hostile },
      }),
      403,
    );
    asked.length = 0;
    await fixture.browser.fetch(`${HTTPS}webhooks/paid`);
    assert.deepEqual(asked, [], "not asked for safe methods");
  });
  await t.step(
    "an exempt function that throws fails closed, through onError",
    async () => {
      const errors: unknown[] = [];
      const { app, calls } = csrfApp({
        csrf: {
          exempt() {
            throw new Error("bug in the app");
          },
        },
        onError(error) {
          errors.push(error);
          return new Response("oops", { status: 500 });
        },
      });
      const response = await app(request(`${HTTPS}submit`, undefined, {
        method: "POST",
        headers: { "sec-fetch-site": "same-origin" },
      }));
      assert.equal(response.status, 500);
      assert.equal(calls.handled, 0);
      assert.equal((errors[0] as Error).message, "bug in the app");
    },
  );
  await t.step("only `true` exempts", async () => {
    const { app, calls } = csrfApp({
      csrf: { exempt: (() => "yes") as unknown as () => boolean },
    });
    const response = await app(request(`${HTTPS}submit`, undefined, {
      method: "POST",
      headers: { "sec-fetch-site": "cross-site" },
    }));
    assert.equal(response.status, 403);
    assert.equal(calls.handled, 0);
  });
});

Deno.test("csrf.trustedOrigins: pages of those origins may post, with the session's token", async (t) => {
  await eachStore(t, async (inner) => {
    const fixture = await withToken({
      csrf: {
        trustedOrigins: [
          "https://admin.example",
          "https://Tools.Example:8443/",
        ],
      },
    }, inner);
    const post = (headers: Record<string, string>) =>
      attempt(fixture, { headers });
    const token = { "x-csrf-token": fixture.token };
    for (const site of ["same-site", "cross-site"]) {
      assert.equal(
        await post({
          ...token,
          origin: "https://admin.example",
          "sec-fetch-site": site,
        }),
        200,
        site,
      );
    }
    assert.equal(
      await post({
        ...token,
        origin: "https://tools.example:8443",
        "sec-fetch-site": "cross-site",
      }),
      200,
      "entries are normalised",
    );
    assert.equal(
      await post({
        origin: "https://admin.example",
        "sec-fetch-site": "cross-site",
      }),
      403,
      "the session's token is still required",
    );
    for (
      const origin of [
        "http://admin.example",
        "https://admin.example:8443",
        "https://tools.example",
        "https://evil.admin.example",
        "https://admin.example.evil",
      ]
    ) {
      assert.equal(
        await post({ ...token, origin, "sec-fetch-site": "cross-site" }),
        403,
        origin,
      );
    }
    assert.equal(
      await post({ ...token, "sec-fetch-site": "cross-site" }),
      403,
      "Sec-Fetch-Site cross-site without an Origin",
    );
    // An anonymous visitor on the admin site, without a session.
    const anonymous = new Browser(fixture.app);
    const response = await anonymous.fetch(`${HTTPS}submit`, {
      method: "POST",
      headers: {
        origin: "https://admin.example",
        "sec-fetch-site": "cross-site",
      },
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });
  await t.step("entries must be origins", () => {
    for (
      const bad of [
        "null",
        "*",
        "admin.example",
        "https://admin.example/path",
        "https://admin.example?x",
        "https://user@admin.example",
        "ftp://admin.example",
        "",
        42,
      ]
    ) {
      assert.throws(
        () =>
          withSession(() => new Response(), {
            store: memoryStore(),
            csrf: { trustedOrigins: [bad as string] },
          }),
        TypeError,
        JSON.stringify(bad),
      );
    }
    assert.throws(
      () =>
        withSession(() => new Response(), {
          store: memoryStore(),
          csrf: {
            trustedOrigins: "https://admin.example" as unknown as string[],
          },
        }),
      TypeError,
    );
  });
  await t.step(
    "the option's shape is checked; true and {} are the same",
    async () => {
      for (
        const bad of ["yes", 1, null, { exempt: "no" }, { anonymous: "lax" }]
      ) {
        assert.throws(
          () =>
            withSession(() => new Response(), {
              store: memoryStore(),
              csrf: bad as unknown as boolean,
            }),
          TypeError,
          JSON.stringify(bad),
        );
      }
      for (const csrf of [true, {}] as const) {
        const { app } = csrfApp({ csrf });
        const response = await app(
          request(`${HTTPS}submit`, undefined, { method: "POST" }),
        );
        assert.equal(response.status, 403, JSON.stringify(csrf));
      }
    },
  );
});

// ---- anonymous visitors: a form without a stored session ----

Deno.test("csrfToken() on a page for an anonymous visitor stores nothing and sets no cookie", async (t) => {
  await eachStore(t, async (inner) => {
    const { browser, store } = csrfApp({}, inner);
    for (let i = 0; i < 3; i++) {
      const response = await browser.fetch(`${HTTPS}form`);
      assert.equal(response.status, 200);
      assert.ok((await response.text()).length >= 22);
      assert.deepEqual(response.headers.getSetCookie(), []);
      assert.match(response.headers.get("vary") ?? "", /cookie/i);
    }
    assert.equal(store.commits.length, 0, "no session was stored");
  });
  await t.step(
    'with anonymous: "token", it stores a session as before',
    async () => {
      const { browser, store } = csrfApp({ csrf: { anonymous: "token" } });
      const response = await browser.fetch(`${HTTPS}form`);
      await response.body?.cancel();
      assert.ok(browser.cookies.has("__Host-session"));
      assert.equal(store.commits.length, 1);
    },
  );
  await t.step("without csrf on, it stores a session as before", async () => {
    const { browser, store } = csrfApp({ csrf: false });
    const response = await browser.fetch(`${HTTPS}form`);
    await response.body?.cancel();
    assert.ok(browser.cookies.has("__Host-session"));
    assert.equal(store.commits.length, 1);
  });
});

Deno.test("login CSRF: an anonymous login form posts on the browser's same-origin signals, a forged one is refused", async (t) => {
  await eachStore(t, async (inner) => {
    const { app, browser, store, calls } = csrfApp({}, inner);
    const token = await browser.text(`${HTTPS}form`);
    const login = (headers: Record<string, string>, jar = new Browser(app)) =>
      jar.fetch(`${HTTPS}login`, {
        method: "POST",
        headers,
        body: new URLSearchParams({ user: "mallory", [CSRF_FIELD]: token }),
      });
    // What an attacker's page makes a modern browser send, and what a
    // browser or client that sends no signal at all sends.
    for (
      const headers of <Record<string, string>[]> [
        { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
        { "sec-fetch-site": "same-site", origin: "https://sub.example.com" },
        { "sec-fetch-site": "cross-site", origin: "null" },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "none" },
        { origin: "https://evil.example" },
        { origin: "http://example.com" },
        { origin: "null" },
        {},
      ]
    ) {
      const handled = calls.handled;
      const commits = store.commits.length;
      const jar = new Browser(app);
      const response = await login(headers, jar);
      assert.equal(response.status, 403, JSON.stringify(headers));
      await response.body?.cancel();
      assert.equal(calls.handled, handled, "the handler did not run");
      assert.equal(store.commits.length, commits, "nothing was stored");
      assert.equal(jar.cookies.size, 0, "no session cookie");
    }
    for (
      const headers of <Record<string, string>[]> [
        { "sec-fetch-site": "same-origin", origin: ORIGIN },
        { "sec-fetch-site": "same-origin" },
        { origin: ORIGIN },
        { "sec-fetch-site": "same-origin", origin: "null" },
      ]
    ) {
      const jar = new Browser(app);
      const response = await login(headers, jar);
      assert.equal(response.status, 200, JSON.stringify(headers));
      assert.equal((await response.json()).user, "ada");
      assert.ok(jar.cookies.has("__Host-session"), "signed in");
    }
  });
  await t.step(
    "a visitor with a session needs its token, same-origin or not",
    async () => {
      const fixture = await withToken();
      assert.equal(
        await attempt(fixture, {
          path: "login",
          headers: { "sec-fetch-site": "same-origin", origin: ORIGIN },
        }),
        403,
      );
      assert.equal(
        await attempt(fixture, {
          path: "login",
          headers: { "sec-fetch-site": "same-origin" },
          body: new URLSearchParams({ [CSRF_FIELD]: fixture.token }),
        }),
        200,
      );
    },
  );
  await t.step(
    'anonymous: "token" refuses an anonymous post whatever it shows',
    async () => {
      const { app, calls } = csrfApp({ csrf: { anonymous: "token" } });
      const response = await app(request(`${HTTPS}login`, undefined, {
        method: "POST",
        headers: { "sec-fetch-site": "same-origin", origin: ORIGIN },
      }));
      assert.equal(response.status, 403);
      assert.equal(calls.handled, 0);
    },
  );
});

Deno.test("a token handed out before the session existed is kept when the page creates it", async (t) => {
  await eachStore(t, async (inner) => {
    const store = counting(inner);
    const app = withSession((req) => {
      const session = getSession(req);
      if (req.method === "GET") {
        const token = session.csrfToken();
        session.set("cart", ["book"]); // this page stores something anyway
        return new Response(token);
      }
      return new Response("changed");
    }, { store, csrf: true });
    const browser = new Browser(app);
    const token = await browser.text(`${HTTPS}shop`);
    assert.ok(browser.cookies.has("__Host-session"));
    const post = async (headers: Record<string, string>) => {
      const response = await browser.fetch(`${HTTPS}shop`, {
        method: "POST",
        headers,
      });
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await post({ "x-csrf-token": token }), 200);
    assert.equal(
      await post({ "sec-fetch-site": "same-origin" }),
      403,
      "now that the session has a token, it is required",
    );
  });
});

Deno.test("a session without a token: anonymous passes on same-origin signals, signed in is refused until a page hands one out", async (t) => {
  await eachStore(t, async (inner) => {
    const { browser } = csrfApp({}, inner);
    const same = { "sec-fetch-site": "same-origin", origin: ORIGIN };
    const post = async (path: string, headers: Record<string, string>) => {
      const response = await browser.fetch(HTTPS + path, {
        method: "POST",
        headers,
      });
      await response.body?.cancel();
      return response.status;
    };
    // Two scripted posts from an anonymous page: the first creates a
    // session (no token in it), the second still passes.
    assert.equal(await post("token-less", same), 200);
    const app2 = withSession((req) => {
      getSession(req).set("cart", ["book"]);
      return new Response("stored");
    }, { store: inner, csrf: true });
    const cart = await new Browser(app2).fetch(`${HTTPS}cart`, {
      method: "POST",
      headers: same,
    });
    const cookie = cart.headers.getSetCookie()[0]!.split(";")[0]!;
    const anonymous = await app2(
      request(`${HTTPS}cart`, cookie, { method: "POST", headers: same }),
    );
    assert.equal(anonymous.status, 200, "anonymous session, no token");
    // Signed in: login() leaves the session without a token.
    assert.equal(await post("login", same), 200);
    assert.ok(browser.cookies.has("__Host-session"));
    assert.equal(await post("submit", same), 403, "signed in, no token");
    const token = await browser.text(`${HTTPS}form`);
    assert.equal(await post("submit", { ...same, "x-csrf-token": token }), 200);
  });
});
