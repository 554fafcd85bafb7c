// The Elysia plugin, end to end over real HTTP on loopback: Bun serves the
// app with app.listen(), Deno with Deno.serve(app.fetch). The shared
// framework tests (_framework.ts), and Elysia's own.
import assert from "node:assert/strict";
import { Elysia } from "elysia";
import {
  currentSession,
  type SessionOptions,
  type SessionStore,
} from "../../mod.ts";
import { session } from "../../elysia.ts";
import { frameworkSuite } from "./_framework.ts";
import type { Listener, StoreFixture, Test } from "./_util.ts";

type Data = { visits: number; language: string; x: number };

/** The app of these tests, built on one store. */
export function elysiaApp(store: SessionStore, options: SessionOptions = {}) {
  const plugin = session<Data>({ ...options, store });
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
    .get("/csrf", ({ session }) => session.csrfToken())
    .post("/echo", ({ body }) => `name ${(body as { name?: string }).name}`)
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
  const it = frameworkSuite(
    test,
    fixture,
    "elysia",
    (store, options) => serve(elysiaApp(store, options)),
  );

  it(
    "a sub-app that uses the plugin again shares the one session, read once",
    async (server, jar, store) => {
      assert.equal(await jar.text(`${server.url}/`), "visit 1");
      const reads = store.reads;
      assert.equal(await jar.text(`${server.url}/users/fr`), "user fr");
      assert.equal(store.reads - reads, 1, "one session, read once");
      assert.equal(await jar.text(`${server.url}/current`), "fr");
      assert.equal(await jar.text(`${server.url}/`), "visit 2");
    },
  );
}
