/**
 * tessera on Elysia: `app.use(session<T>(options))` gives every handler a
 * typed session, as `({ session }) => …`. It is built on `withSession`, so
 * sessions behave the same in an Elysia app as in a bare fetch handler, and
 * `app.listen()` (Bun) and `app.fetch` (Deno, anywhere) keep working.
 *
 * This module does not import Elysia: the plugin is typed structurally and
 * fits `app.use()` of any Elysia 1 app.
 *
 * @example An Elysia app on Bun with sessions in a KV file
 * ```ts ignore
 * import { Elysia } from "elysia";
 * import { openKv } from "@deno/kv";
 * import { kvStore } from "@tessera/session";
 * import { bunKvOptions } from "@tessera/session/bun";
 * import { session } from "@tessera/session/elysia";
 *
 * type Data = { visits: number; language: string };
 *
 * const store = kvStore(await openKv("sessions.db", bunKvOptions));
 *
 * new Elysia()
 *   .use(session<Data>({ store }))
 *   .get("/", ({ session }) => {
 *     const visits = session.update("visits", (n = 0) => n + 1);
 *     return `visit ${visits} (${session.get("language") ?? "en"})`;
 *   })
 *   .post("/login", async ({ session, redirect }) => {
 *     await session.login("ada");
 *     return redirect("/", 303);
 *   })
 *   .listen(8000);
 * ```
 *
 * @module
 */
export {
  type ElysiaAppLike,
  type ElysiaHandle,
  session,
  type SessionPlugin,
  type WithSessionContext,
} from "./src/adapters/elysia.ts";
