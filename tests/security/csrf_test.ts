// Attacker's checklist, part 10: cross-site request forgery. With
// `csrf: true`, a request with an unsafe method runs its handler only when it
// carries the session's CSRF token (header or form field) and, where the
// browser says where it comes from, comes from the same origin.
import assert from "node:assert/strict";
import {
  CSRF_FIELD,
  CSRF_HEADER,
  getSession,
  memoryStore,
  type SessionOptions,
  withSession,
} from "../../mod.ts";
import { Browser, counting } from "../_helpers.ts";
import { everythingSent, forgedToken, HTTPS, request } from "./_attack.ts";

const ORIGIN = "https://example.com";

/**
 * An app with CSRF protection. `/token` answers the session's CSRF token;
 * `/login`, `/logout`, `/regenerate`, `/destroy` do that; anything else
 * echoes what the handler could read of the body.
 */
function csrfApp(options: SessionOptions = {}) {
  const store = counting(memoryStore());
  const calls = { handled: 0 };
  const app = withSession(async (req) => {
    calls.handled++;
    const session = getSession(req);
    const path = new URL(req.url).pathname;
    if (path === "/token") return new Response(session.csrfToken());
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
    return Response.json({ handled: true, body });
  }, { store, csrf: true, ...options });
  return { app, store, calls, browser: new Browser(app) };
}

/** A browser with a session and its CSRF token. */
async function withToken(options: SessionOptions = {}) {
  const fixture = csrfApp(options);
  const response = await fixture.browser.fetch(`${HTTPS}token`);
  assert.equal(response.status, 200);
  const token = await response.text();
  return { ...fixture, token };
}

/** Sends an unsafe request and returns its status; asserts a 403 ran no handler and wrote nothing. */
async function attempt(
  fixture: Awaited<ReturnType<typeof withToken>>,
  init: RequestInit & { path?: string },
): Promise<number> {
  const handled = fixture.calls.handled;
  const commits = fixture.store.commits.length;
  const response = await fixture.browser.fetch(
    HTTPS + (init.path ?? "submit"),
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
  await t.step("asking for it creates the session and its cookie", async () => {
    const { browser, store, token } = await withToken();
    assert.ok(browser.cookies.has("__Host-session"));
    assert.ok(store.commits.some((c) => c.sets.length > 0), "stored");
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
