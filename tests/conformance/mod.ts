/**
 * One conformance suite, run on every runtime: the SessionStore contract,
 * withSession's behaviour over real Request and Response objects, the
 * runtime's HTTP server, the Hono middleware and the Elysia plugin. Each runtime's runner
 * (tests/store_conformance_test.ts for Deno, tests/bun/ for Bun) passes its
 * `test` function, its stores and its server; the assertions are the same.
 *
 * @module
 */
import { coreSuite } from "./core.ts";
import { elysiaSuite, type ServeElysia } from "./elysia.ts";
import { honoSuite } from "./hono.ts";
import { httpSuite } from "./http.ts";
import { lostReplySuite } from "./lost_replies.ts";
import { storeSuite } from "./stores.ts";
import type { Runtime } from "./_util.ts";

export type { ServeElysia } from "./elysia.ts";
export type {
  Listen,
  Listener,
  OpenedStore,
  Runtime,
  StoreFixture,
  Test,
} from "./_util.ts";
export { tempDir } from "./_util.ts";

/** Registers the whole suite for every store of `runtime`; the Elysia
 * tests serve their app with `serveElysia`, else with `listen(app.fetch)`. */
export function conformance(
  runtime: Runtime & { readonly serveElysia?: ServeElysia },
): void {
  for (const fixture of runtime.stores) {
    storeSuite(runtime.test, fixture);
    coreSuite(runtime.test, fixture);
    lostReplySuite(runtime.test, fixture);
    httpSuite(runtime.test, fixture, runtime.listen);
    honoSuite(runtime.test, fixture, runtime.listen);
    elysiaSuite(
      runtime.test,
      fixture,
      runtime.serveElysia ?? ((app) => runtime.listen(app.fetch)),
    );
  }
}
