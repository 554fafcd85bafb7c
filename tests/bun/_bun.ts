// Types for what `bun test` provides, without bun-types and without
// `bun:test` imports, so that Deno can type-check and lint these files too.
// Only what the Bun suite uses is declared.

/** `Bun.serve()`'s server, the part the tests use. */
export interface BunServer {
  readonly port: number;
  readonly url: URL;
  requestIP(
    request: Request,
  ): { address: string; port: number; family: string } | null;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/** A handler as `Bun.serve` calls it. */
export type BunHandler = (
  request: Request,
  server: BunServer,
) => Response | Promise<Response>;

/** `Bun.serve()`'s options, the part the tests use. */
export interface BunServeOptions {
  hostname?: string;
  port?: number;
  fetch?: BunHandler;
  routes?: Record<string, BunHandler | Response>;
}

/** Bun's built-in PostgreSQL client (`Bun.SQL`), the part the tests use. */
export interface BunSql {
  unsafe(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(options?: { timeout?: number }): Promise<void>;
}

interface BunGlobal {
  readonly version: string;
  serve(options: BunServeOptions): BunServer;
  SQL: new (url: string, options?: { max?: number }) => BunSql;
}

/** The `Bun` global. */
export const Bun: BunGlobal = (globalThis as unknown as { Bun: BunGlobal }).Bun;

/** `bun:test`'s `test` function: `bun test` provides it as a free name in
 * test files only, so each spec file declares it with this type. */
export type BunTest = (
  name: string,
  fn: () => Promise<void> | void,
  timeoutMs?: number,
) => void;
