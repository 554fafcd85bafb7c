/**
 * tessera on Bun: `Bun.serve` takes `withSession` handlers as they are (Bun's
 * `server` argument passes through), in its `fetch` and its `routes` form.
 * What Bun needs is a way to open the shared session database: Deno KV
 * through the `@deno/kv` npm client, which on Bun refuses to open a file
 * without serializer options. {@link bunKvOptions} is those options, so the
 * setup is one line, and the database stays readable by Deno and Node.
 *
 * This module imports nothing from npm; install `@deno/kv` next to it.
 *
 * @example A Bun server with sessions in a KV file
 * ```ts ignore
 * import { openKv } from "@deno/kv";
 * import { getSession, kvStore, withSession } from "@tessera/session";
 * import { bunKvOptions } from "@tessera/session/bun";
 *
 * const store = kvStore(await openKv("sessions.db", bunKvOptions));
 *
 * const counter = withSession((req) => {
 *   const visits = getSession<{ visits: number }>(req).update("visits", (n = 0) => n + 1);
 *   return new Response(`visit ${visits}`);
 * }, { store });
 *
 * Bun.serve({
 *   port: 8000,
 *   routes: { "/counter": counter },
 *   fetch: withSession((req, server) => {
 *     const language = getSession<{ language: string }>(req).get("language") ?? "en";
 *     return new Response(`${language}, from ${server.requestIP(req)?.address}`);
 *   }, { store }),
 * });
 * ```
 *
 * @module
 */
export { type BunKvOptions, bunKvOptions } from "./src/adapters/bun.ts";
