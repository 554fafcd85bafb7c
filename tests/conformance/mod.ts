/**
 * One conformance suite, run on every runtime: the SessionStore contract,
 * withSession's behaviour over real Request and Response objects, the
 * runtime's HTTP server, and the Hono middleware. Each runtime's runner
 * (tests/store_conformance_test.ts for Deno, tests/bun/ for Bun) passes its
 * `test` function, its stores and its server; the assertions are the same.
 *
 * @module
 */
import { coreSuite } from "./core.ts";
import { honoSuite } from "./hono.ts";
import { httpSuite } from "./http.ts";
import { lostReplySuite } from "./lost_replies.ts";
import { storeSuite } from "./stores.ts";
import type { Runtime } from "./_util.ts";

export type {
  Listen,
  Listener,
  OpenedStore,
  Runtime,
  StoreFixture,
  Test,
} from "./_util.ts";
export { tempDir } from "./_util.ts";

/** Registers the whole suite for every store of `runtime`. */
export function conformance(runtime: Runtime): void {
  for (const fixture of runtime.stores) {
    storeSuite(runtime.test, fixture);
    coreSuite(runtime.test, fixture);
    lostReplySuite(runtime.test, fixture);
    httpSuite(runtime.test, fixture, runtime.listen);
    honoSuite(runtime.test, fixture, runtime.listen);
  }
}
