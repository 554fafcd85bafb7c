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

/** The params of a route path, as bun-types' `Serve.ExtractRouteParams`
 * computes them: `"/users/:id"` gives `{ id: string }`. */
export type RouteParams<T extends string> = string extends T
  ? Record<string, string>
  : T extends `${string}:${infer Param}/${infer Rest}`
    ? { [K in Param]: string } & RouteParams<Rest>
  : T extends `${string}:${infer Param}` ? { [K in Param]: string }
  : Record<never, string>;

/** Bun's `BunRequest<Path>`: what a `routes` handler receives. */
export interface BunRequest<T extends string = string> extends Request {
  readonly params: RouteParams<T>;
}

/** A `routes` handler as bun-types declares it, typed by its path. */
export type BunRouteHandler<Path extends string> = (
  request: BunRequest<Path>,
  server: BunServer,
) => Response | Promise<Response>;

/** `Bun.serve()`'s options, the part the tests use; `routes` is typed per
 * path, as bun-types' `Serve.Routes`. */
export interface BunServeOptions<R extends string = string> {
  hostname?: string;
  port?: number;
  fetch?: BunHandler;
  routes?: { [Path in R]: BunRouteHandler<Path> | Response };
}

/** Bun's built-in Redis client, the part the tests use. */
export interface BunRedisClient {
  connect(): Promise<void>;
  send(command: string, args: string[]): Promise<unknown>;
  close(): void;
}

/** Bun's built-in PostgreSQL client (`Bun.SQL`), the part the tests use. */
export interface BunSql {
  unsafe(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(options?: { timeout?: number }): Promise<void>;
}

interface BunGlobal {
  readonly version: string;
  serve<R extends string>(options: BunServeOptions<R>): BunServer;
  RedisClient: new (url: string) => BunRedisClient;
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
