// What every framework adapter (Hono's middleware, Elysia's plugin) must do,
// end to end over real HTTP on loopback. Each framework serves the same
// routes, written its own way:
//   GET  /            counts visits: "visit N"
//   GET  /me          { user, keys } as JSON
//   GET  /lang/:lang  stores the language, sets the app's own cookie "theme"
//   POST /login       login("ada"), then a 303 to /me
//   GET  /boom        stores x = 99, then throws "boom"
//   GET  /current     the language, read with currentSession()
//   GET  /csrf        the session's CSRF token
//   POST /echo        "name <the form's name field>", read by the framework
// behind an outer middleware that sets `x-outer: kept`, with an error
// handler that answers 500 "handled: <message>".
import assert from "node:assert/strict";
import type { SessionOptions, SessionStore } from "../../mod.ts";
import {
  CookieJar,
  failing,
  type Listener,
  network,
  storedRecord,
  type StoreFixture,
  type Test,
  withStore,
} from "./_util.ts";

/** A store that can be made to fail, as the framework tests get it. */
export type FailingStore = SessionStore & ReturnType<typeof failing>;

/** Serves the framework's app, built on `store` with `options`, on
 * 127.0.0.1. */
export type ServeApp = (
  store: SessionStore,
  options?: SessionOptions,
) => Promise<Listener>;

/** Registers one test with a served app, a cookie jar and its store. */
export type FrameworkTest = (
  name: string,
  fn: (server: Listener, jar: CookieJar, store: FailingStore) => Promise<void>,
) => void;

/**
 * Registers the shared tests for one framework and store, and returns the
 * registrar for the framework's own.
 */
export function frameworkSuite(
  test: Test,
  fixture: StoreFixture,
  framework: string,
  serve: ServeApp,
): FrameworkTest {
  const withOptions = (options: SessionOptions): FrameworkTest => (name, fn) =>
    test(`${fixture.name} ${framework}: ${name}`, () =>
      withStore(fixture, async (inner) => {
        const store = failing(inner);
        const server = await serve(store, options);
        try {
          await fn(server, new CookieJar(network), store);
        } finally {
          await server.close();
        }
      }));
  const it = withOptions({});

  it(
    "the session counts visits; no cookie until a value is stored",
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
      assert.match(first.headers.get("cache-control") ?? "", /private/);
      const second = await jar.fetch(`${server.url}/`);
      assert.equal(await second.text(), "visit 2");
      assert.deepEqual(second.headers.getSetCookie(), []);
      assert.match(second.headers.get("vary") ?? "", /Cookie/);
    },
  );

  it(
    "the app's own cookies and headers survive next to the session cookie; currentSession() works",
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
    "login() rotates the token, the redirect carries the new cookie, the language stays",
    async (server, jar, store) => {
      await (await jar.fetch(`${server.url}/lang/de`)).body?.cancel();
      const anonymous = jar.get("session")!;
      const res = await jar.fetch(`${server.url}/login`, { method: "POST" });
      assert.equal(res.status, 303);
      assert.match(res.headers.get("location") ?? "", /\/me$/);
      await res.body?.cancel();
      const rotated = jar.get("session")!;
      assert.notEqual(rotated, anonymous);
      assert.deepEqual(await (await jar.fetch(`${server.url}/me`)).json(), {
        user: "ada",
        keys: ["language"],
      });
      assert.equal(await storedRecord(store, anonymous), null);
      assert.equal((await storedRecord(store, rotated))?.user, "ada");
    },
  );

  it(
    "a handler that throws is answered by the framework's error handler and saves nothing",
    async (server, jar, store) => {
      assert.equal(await jar.text(`${server.url}/`), "visit 1");
      const res = await jar.fetch(`${server.url}/boom`);
      assert.equal(res.status, 500);
      assert.equal(await res.text(), "handled: boom");
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.deepEqual(
        (await storedRecord(store, jar.get("session")!))?.data,
        { visits: 1 },
      );
      assert.equal(await jar.text(`${server.url}/`), "visit 2");
    },
  );

  it(
    "a store that fails to read answers 503 and runs no handler",
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
    "a store that fails to save answers 503 with none of the handler's cookies, in login() too",
    async (server, jar, store) => {
      store.failCommits = true;
      const original = console.error;
      console.error = () => {};
      try {
        const res = await jar.fetch(`${server.url}/lang/de`);
        assert.equal(res.status, 503);
        assert.notEqual(await res.text(), "ok");
        assert.deepEqual(res.headers.getSetCookie(), []);
        // login() stores while the handler awaits it: its failure is the
        // session's, answered 503 by onError, not the framework's 500.
        const login = await jar.fetch(`${server.url}/login`, {
          method: "POST",
        });
        assert.equal(login.status, 503);
        assert.deepEqual(login.headers.getSetCookie(), []);
        await login.body?.cancel();
      } finally {
        console.error = original;
      }
      store.failCommits = false;
      assert.deepEqual(await (await jar.fetch(`${server.url}/me`)).json(), {
        user: null,
        keys: [],
      });
    },
  );

  withOptions({ csrf: true })(
    "with csrf: true, a form post needs the token, and the framework still reads the body",
    async (server, jar) => {
      // A stored session, so the token is the session's (an anonymous
      // visitor's form relies on the browser's Origin alone).
      assert.equal(await jar.text(`${server.url}/`), "visit 1");
      const token = await jar.text(`${server.url}/csrf`);
      const post = (body: string) =>
        jar.fetch(`${server.url}/echo`, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: server.url,
          },
          body,
        });
      const refused = await post("name=ada");
      assert.equal(refused.status, 403);
      await refused.body?.cancel();
      const wrong = await post("name=ada&_csrf=wrong");
      assert.equal(wrong.status, 403);
      await wrong.body?.cancel();
      const passed = await post(`name=ada&_csrf=${token}`);
      assert.equal(passed.status, 200);
      assert.equal(await passed.text(), "name ada");
    },
  );

  return it;
}
