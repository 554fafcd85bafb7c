/**
 * tessera on Hono: {@link sessionMiddleware} gives every request a session
 * as `c.get("session")`, typed through {@link SessionEnv}. It is built on
 * `withSession`, so sessions behave the same in a Hono app on Deno, Bun,
 * Node or any other runtime Hono serves.
 *
 * This module does not import Hono: the middleware is typed structurally and
 * fits `app.use()` of any Hono 4 app.
 *
 * @example A Hono app with sessions
 * ```ts ignore
 * import { Hono } from "hono";
 * import { kvStore } from "@tessera/session";
 * import { type SessionEnv, sessionMiddleware } from "@tessera/session/hono";
 *
 * type Data = { visits: number; language: string };
 *
 * const app = new Hono<SessionEnv<Data>>();
 * app.use(sessionMiddleware({ store: kvStore(await Deno.openKv("sessions.db")) }));
 * app.get("/", (c) => {
 *   const session = c.get("session");
 *   const visits = session.update("visits", (n = 0) => n + 1);
 *   return c.text(`visit ${visits} (${session.get("language") ?? "en"})`);
 * });
 * app.post("/login", async (c) => {
 *   await c.get("session").login("ada");
 *   return c.redirect("/");
 * });
 *
 * Deno.serve(app.fetch);
 * ```
 *
 * @module
 */
export {
  type HonoContextLike,
  type SessionEnv,
  type SessionMiddleware,
  sessionMiddleware,
  type SessionVariables,
} from "./src/adapters/hono.ts";
