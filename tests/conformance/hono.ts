// The Hono middleware, end to end over real HTTP on loopback.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { currentSession, type SessionStore } from "../../mod.ts";
import { type SessionEnv, sessionMiddleware } from "../../hono.ts";
import {
  CookieJar,
  failing,
  type Listen,
  type Listener,
  network,
  storedRecord,
  type StoreFixture,
  type Test,
  withStore,
} from "./_util.ts";

type Data = { visits: number; language: string; x: number };

function honoApp(store: SessionStore) {
  const app = new Hono<SessionEnv<Data>>();
  app.use(async (c, next) => {
    c.header("x-outer", "kept");
    await next();
  });
  app.use(sessionMiddleware<Data>({ store }));
  app.get("/", (c) => {
    const visits = c.get("session").update("visits", (n = 0) => n + 1);
    return c.text(`visit ${visits}`);
  });
  app.get("/me", (c) => {
    const session = c.var.session;
    return c.json({ user: session.userId, keys: session.keys() });
  });
  app.get("/lang/:lang", (c) => {
    c.get("session").set("language", c.req.param("lang"));
    setCookie(c, "theme", "dark");
    return c.text("ok");
  });
  app.post("/login", async (c) => {
    await c.get("session").login("ada");
    return c.redirect("/me", 303);
  });
  app.get("/immutable", (c) => {
    c.get("session").set("x", 1);
    // Response.redirect() has immutable headers.
    return Response.redirect(new URL("/me", c.req.url).href, 302);
  });
  app.get("/boom", (c) => {
    c.get("session").set("x", 99);
    throw new Error("boom");
  });
  app.get("/current", async (c) => {
    await Promise.resolve();
    return c.text(currentSession<Data>().get("language") ?? "none");
  });
  app.onError((error, c) => c.text(`handled: ${error.message}`, 500));
  return app;
}

/** Registers the Hono middleware tests for one store. */
export function honoSuite(
  test: Test,
  fixture: StoreFixture,
  listen: Listen,
): void {
  const it = (
    name: string,
    fn: (
      server: Listener,
      jar: CookieJar,
      store: SessionStore & ReturnType<typeof failing>,
    ) => Promise<void>,
  ) =>
    test(`${fixture.name} hono: ${name}`, () =>
      withStore(fixture, async (inner) => {
        const store = failing(inner);
        const server = await listen(honoApp(store).fetch);
        try {
          await fn(server, new CookieJar(network), store);
        } finally {
          await server.close();
        }
      }));

  it(
    "c.get('session') counts visits; no cookie until a value is stored",
    async (server, jar) => {
      const me = await jar.fetch(`${server.url}/me`);
      assert.deepEqual(await me.json(), { user: null, keys: [] });
      assert.deepEqual(me.headers.getSetCookie(), []);
      assert.equal(me.headers.get("x-outer"), "kept");
      const first = await jar.fetch(`${server.url}/`);
      assert.equal(await first.text(), "visit 1");
      assert.match(
        first.headers.get("set-cookie") ?? "",
        /^session=[\w-]{43};/,
      );
      const second = await jar.fetch(`${server.url}/`);
      assert.equal(await second.text(), "visit 2");
      assert.deepEqual(second.headers.getSetCookie(), []);
    },
  );

  it(
    "the app's own cookies and headers survive next to the session cookie",
    async (server, jar) => {
      const res = await jar.fetch(`${server.url}/lang/de`);
      assert.equal(await res.text(), "ok");
      assert.deepEqual(
        res.headers.getSetCookie().map((c) => c.split("=")[0]).sort(),
        ["session", "theme"],
      );
      assert.equal(res.headers.get("x-outer"), "kept");
      assert.equal(await jar.text(`${server.url}/current`), "de");
    },
  );

  it(
    "login() in a handler that redirects: the redirect carries the new cookie, the language stays",
    async (server, jar, store) => {
      await (await jar.fetch(`${server.url}/lang/de`)).body?.cancel();
      const anonymous = jar.get("session")!;
      const res = await jar.fetch(`${server.url}/login`, { method: "POST" });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/me");
      await res.body?.cancel();
      assert.notEqual(jar.get("session"), anonymous);
      assert.deepEqual(await (await jar.fetch(`${server.url}/me`)).json(), {
        user: "ada",
        keys: ["language"],
      });
      assert.equal(await storedRecord(store, anonymous), null);
    },
  );

  it(
    "a response with immutable headers still gets the cookie",
    async (server, jar, store) => {
      const res = await jar.fetch(`${server.url}/immutable`);
      assert.equal(res.status, 302);
      await res.body?.cancel();
      const token = jar.get("session");
      assert.ok(token, "Set-Cookie was sent");
      assert.deepEqual((await storedRecord(store, token))?.data, { x: 1 });
    },
  );

  it(
    "a handler that throws is answered by onError and saves nothing",
    async (server, jar, store) => {
      assert.equal(await jar.text(`${server.url}/`), "visit 1");
      const res = await jar.fetch(`${server.url}/boom`);
      assert.equal(res.status, 500);
      assert.equal(await res.text(), "handled: boom");
      assert.deepEqual(
        (await storedRecord(store, jar.get("session")!))?.data,
        { visits: 1 },
      );
    },
  );

  it(
    "a store that fails answers 503 and runs no handler",
    async (server, jar, store) => {
      assert.equal(await jar.text(`${server.url}/`), "visit 1");
      store.failReads = true;
      const original = console.error;
      console.error = () => {};
      try {
        const res = await jar.fetch(`${server.url}/`);
        assert.equal(res.status, 503);
        await res.body?.cancel();
      } finally {
        console.error = original;
      }
      store.failReads = false;
      assert.equal(await jar.text(`${server.url}/`), "visit 2");
    },
  );

  it(
    "a save that fails answers 503 with none of the handler's cookies",
    async (server, jar, store) => {
      store.failCommits = true;
      const original = console.error;
      console.error = () => {};
      try {
        const res = await jar.fetch(`${server.url}/lang/de`);
        assert.equal(res.status, 503);
        assert.notEqual(await res.text(), "ok");
        assert.deepEqual(res.headers.getSetCookie(), []);
      } finally {
        console.error = original;
      }
    },
  );

  test(`${fixture.name} hono: with csrf, c.req.parseBody() reads the form whose _csrf the check read; a forged post is refused`, () =>
    withStore(fixture, async (store) => {
      const app = new Hono<SessionEnv>();
      app.use(sessionMiddleware({ store, csrf: true }));
      app.get("/list", (c) => {
        c.get("session").set("visited", true);
        return c.text(c.get("session").csrfToken());
      });
      app.post(
        "/list",
        async (c) => c.text(`added ${(await c.req.parseBody()).item}`),
      );
      const server = await listen(app.fetch);
      try {
        const jar = new CookieJar(network);
        const token = await jar.text(`${server.url}/list`);
        const post = (csrf: string) =>
          jar.fetch(`${server.url}/list`, {
            method: "POST",
            headers: { origin: server.url },
            body: new URLSearchParams({ item: "milk", _csrf: csrf }),
          });
        const added = await post(token);
        assert.equal(added.status, 200);
        assert.equal(await added.text(), "added milk");
        const forged = await post("forged");
        assert.equal(forged.status, 403);
        await forged.body?.cancel();
      } finally {
        await server.close();
      }
    }));
}
