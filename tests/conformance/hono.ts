// The Hono middleware, end to end over real HTTP on loopback: the shared
// framework tests (_framework.ts), and Hono's own.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import {
  currentSession,
  type SessionOptions,
  type SessionStore,
} from "../../mod.ts";
import { type SessionEnv, sessionMiddleware } from "../../hono.ts";
import { frameworkSuite } from "./_framework.ts";
import {
  type Listen,
  storedRecord,
  type StoreFixture,
  type Test,
} from "./_util.ts";

type Data = { visits: number; language: string; x: number };

function honoApp(store: SessionStore, options: SessionOptions = {}) {
  const app = new Hono<SessionEnv<Data>>();
  app.use(async (c, next) => {
    c.header("x-outer", "kept");
    await next();
  });
  app.use(sessionMiddleware<Data>({ ...options, store }));
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
  app.get("/csrf", (c) => c.text(c.get("session").csrfToken()));
  app.post(
    "/echo",
    async (c) => c.text(`name ${(await c.req.parseBody()).name}`),
  );
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
  const it = frameworkSuite(
    test,
    fixture,
    "hono",
    (store, options) => listen(honoApp(store, options).fetch),
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
}
