// The Elysia plugin, end to end over real HTTP on loopback: Bun serves the
// app with app.listen(), Deno with Deno.serve(app.fetch).
import assert from "node:assert/strict";
import { Elysia } from "elysia";
import { currentSession, type SessionStore } from "../../mod.ts";
import { session } from "../../elysia.ts";
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

type Data = { visits: number; language: string; x: number };

/** The app of these tests, built on one store. */
export function elysiaApp(store: SessionStore) {
  const plugin = session<Data>({ store });
  // A named sub-app uses the same plugin for its types, as Elysia apps do
  // (the name keeps Elysia from folding the two registrations into one).
  const users = new Elysia({ name: "users", prefix: "/users" })
    .use(plugin)
    .get("/:id", ({ session, params }) => {
      session.set("language", params.id);
      return `user ${params.id}`;
    });
  return new Elysia()
    .onRequest(({ set }) => {
      set.headers["x-outer"] = "kept";
    })
    .use(plugin)
    .use(users)
    .get("/", ({ session }) => {
      const visits: number = session.update("visits", (n = 0) => n + 1);
      // @ts-expect-error the plugin's type: "visits" holds a number
      (() => session.set("visits", "many"));
      return `visit ${visits}`;
    })
    .get("/me", ({ session }) => ({
      user: session.userId,
      keys: session.keys(),
    }))
    .get("/lang/:lang", ({ session, params, cookie: { theme } }) => {
      session.set("language", params.lang);
      theme!.value = "dark";
      return "ok";
    })
    .post("/login", async ({ session, redirect, request }) => {
      await session.login("ada");
      // Absolute: Elysia's redirect() on Deno refuses a relative URL.
      return redirect(new URL("/me", request.url).href, 303);
    })
    .get("/boom", ({ session }) => {
      session.set("x", 99);
      throw new Error("boom");
    })
    .get("/current", async () => {
      await Promise.resolve();
      return currentSession<Data>().get("language") ?? "none";
    })
    .onError(({ error }) =>
      new Response(
        `handled: ${error instanceof Error ? error.message : String(error)}`,
        { status: 500 },
      )
    );
}

/** Serves an Elysia app on 127.0.0.1 with an OS-chosen port. */
export type ServeElysia = (
  app: ReturnType<typeof elysiaApp>,
) => Promise<Listener>;

/** Registers the Elysia plugin tests for one store. */
export function elysiaSuite(
  test: Test,
  fixture: StoreFixture,
  serve: ServeElysia,
): void {
  const it = (
    name: string,
    fn: (
      server: Listener,
      jar: CookieJar,
      store: SessionStore & ReturnType<typeof failing>,
    ) => Promise<void>,
  ) =>
    test(`${fixture.name} elysia: ${name}`, () =>
      withStore(fixture, async (inner) => {
        const store = failing(inner);
        const server = await serve(elysiaApp(store));
        try {
          await fn(server, new CookieJar(network), store);
        } finally {
          await server.close();
        }
      }));

  it(
    "({ session }) counts visits; no cookie until a value is stored",
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
      assert.equal(second.headers.get("vary"), "Cookie");
    },
  );

  it(
    "Elysia's own cookies and headers survive next to the session cookie; currentSession() works",
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
    "a sub-app that uses the plugin again shares the one session",
    async (server, jar, store) => {
      assert.equal(await jar.text(`${server.url}/`), "visit 1");
      const reads = store.reads;
      assert.equal(await jar.text(`${server.url}/users/fr`), "user fr");
      assert.equal(store.reads - reads, 1, "one session, read once");
      assert.equal(await jar.text(`${server.url}/current`), "fr");
      assert.equal(await jar.text(`${server.url}/`), "visit 2");
    },
  );

  it(
    "login() rotates the token, the redirect carries the new cookie, the language stays",
    async (server, jar, store) => {
      await (await jar.fetch(`${server.url}/lang/de`)).body?.cancel();
      const anonymous = jar.get("session")!;
      const res = await jar.fetch(`${server.url}/login`, { method: "POST" });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), `${server.url}/me`);
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
    "a handler that throws is answered by Elysia's onError and saves nothing",
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
    "a store that fails to save answers 503 with none of the handler's cookies",
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
        // session's, answered 503 by onError, not Elysia's 500.
        const login = await jar.fetch(`${server.url}/login`, {
          method: "POST",
        });
        assert.equal(login.status, 503);
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
}
