// carrier: "bearer": the token in Authorization / Session-Token over real
// requests, never mixed with cookie sessions, outside the CSRF check.
import assert from "node:assert/strict";
import {
  getSession,
  SESSION_TOKEN_HEADER,
  type SessionStore,
  withSession,
} from "../mod.ts";
import { serveLocal, STORES } from "./_helpers.ts";
import { REDIS_STORES } from "./_redis.ts";

function app(store: SessionStore, carrier: "cookie" | "bearer") {
  return withSession(async (req) => {
    const session = getSession<{ notes: string[] }>(req);
    const path = new URL(req.url).pathname;
    if (path === "/login") await session.login("ada");
    if (path === "/logout") await session.logout();
    if (path === "/note") {
      session.update("notes", (n = []) => [...n, String(n.length)]);
    }
    return Response.json({
      user: session.userId,
      rejected: session.rejected ?? null,
      notes: session.get("notes") ?? [],
    });
  }, {
    store,
    carrier,
    csrf: true,
    onError: (error) => new Response(String(error), { status: 403 }),
  });
}

/** A client that keeps the token the server hands out. */
class TokenClient {
  token: string | null = null;
  constructor(readonly origin: string) {}
  async call(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    if (this.token !== null) {
      headers.set("authorization", `Bearer ${this.token}`);
    }
    const res = await fetch(`${this.origin}${path}`, {
      method: "POST",
      ...init,
      headers,
    });
    const issued = res.headers.get(SESSION_TOKEN_HEADER);
    if (issued !== null) this.token = issued === "" ? null : issued;
    return { res, body: await res.json() };
  }
}

for (const fixture of [...STORES, REDIS_STORES[0]!]) {
  Deno.test(`${fixture.name}: carrier "bearer" issues the token in Session-Token, reads Authorization, rotates on login`, async () => {
    const { store, close } = await fixture.open();
    const server = serveLocal(app(store, "bearer"));
    try {
      const client = new TokenClient(server.origin);
      const first = await client.call("/note");
      assert.equal(first.res.status, 200, "no CSRF check on a bearer POST");
      assert.equal(first.res.headers.get("set-cookie"), null);
      assert.match(client.token!, /^[\w-]{43}$/);
      assert.equal(first.res.headers.get("cache-control"), "private, no-store");
      assert.match(first.res.headers.get("vary")!, /Authorization/);
      assert.equal(
        first.res.headers.get("access-control-expose-headers"),
        "Session-Token",
      );
      const anonymous = client.token;
      const second = await client.call("/note");
      assert.deepEqual(second.body.notes, ["0", "1"]);
      assert.equal(second.res.headers.get(SESSION_TOKEN_HEADER), null);
      const login = await client.call("/login");
      assert.equal(login.body.user, "ada");
      assert.notEqual(client.token, anonymous, "login returns a new token");
      // The old token no longer names a session.
      const stale = new TokenClient(server.origin);
      stale.token = anonymous;
      assert.equal((await stale.call("/")).body.user, null);
      assert.equal((await client.call("/")).body.user, "ada");
      // A logout that keeps nothing ends the session: an empty Session-Token.
      const out = await client.call("/logout");
      assert.equal(out.res.headers.get(SESSION_TOKEN_HEADER), "");
      assert.equal(client.token, null);
    } finally {
      await server.close();
      await close();
    }
  });

  Deno.test(`${fixture.name}: bearer and cookie sessions never mix`, async () => {
    const { store, close } = await fixture.open();
    const bearer = serveLocal(app(store, "bearer"));
    const cookie = serveLocal(app(store, "cookie"));
    try {
      // A token issued to a bearer client is not honoured as a cookie...
      const client = new TokenClient(bearer.origin);
      await client.call("/login");
      const asCookie = await fetch(`${cookie.origin}/`, {
        headers: { cookie: `session=${client.token}` },
      });
      const asCookieBody = await asCookie.json();
      assert.equal(asCookieBody.user, null);
      assert.equal(asCookieBody.rejected, "wrong-channel");
      // ...nor a cookie session's token in Authorization by a cookie app,
      // nor a cookie by a bearer app.
      const web = await fetch(`${cookie.origin}/login`, {
        method: "POST",
        headers: { "sec-fetch-site": "same-origin", origin: cookie.origin },
      });
      await web.body?.cancel();
      const webToken = web.headers.getSetCookie()[0]!.split(";")[0]!.split(
        "=",
      )[1]!;
      const viaHeader = await fetch(`${cookie.origin}/`, {
        headers: { authorization: `Bearer ${webToken}` },
      });
      const viaHeaderBody = await viaHeader.json();
      assert.equal(viaHeaderBody.user, null);
      // A cookie app reads no Authorization header: no token was presented.
      assert.equal(viaHeaderBody.rejected, null);
      const viaCookie = await fetch(`${bearer.origin}/`, {
        headers: { cookie: `session=${webToken}` },
      });
      const viaCookieBody = await viaCookie.json();
      assert.equal(viaCookieBody.user, null);
      assert.equal(
        viaCookieBody.rejected,
        null,
        "a bearer app reads no cookie",
      );
      assert.equal(viaCookie.headers.get("set-cookie"), null);
      // The cookie app still checks CSRF: a cross-site POST is refused.
      const forged = await fetch(`${cookie.origin}/note`, {
        method: "POST",
        headers: { "sec-fetch-site": "cross-site" },
      });
      assert.equal(forged.status, 403);
      await forged.body?.cancel();
    } finally {
      await bearer.close();
      await cookie.close();
      await close();
    }
  });
}

Deno.test('carrier "bearer": a malformed Authorization header is no session, not a crash', async () => {
  const { store, close } = await STORES[1]!.open();
  const handle = app(store, "bearer");
  try {
    for (
      const value of [
        "Bearer",
        "Bearer not-a-token",
        "Basic YWRhOnB3",
        `Bearer ${"a".repeat(43)} extra`,
        "bearer    " + "\u00e9".repeat(43),
      ]
    ) {
      const res = await handle(
        new Request("http://localhost/", { headers: { authorization: value } }),
      );
      assert.equal(res.status, 200, value);
      assert.equal((await res.json()).user, null);
    }
    assert.throws(
      () => withSession(() => new Response(), { carrier: "header" as never }),
      /carrier must be "cookie" or "bearer", got "header"/,
    );
  } finally {
    await close();
  }
});
