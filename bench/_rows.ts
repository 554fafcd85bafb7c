/**
 * The rows of the HTTP benchmark (bench/http.ts) and the hook that lets a
 * store's branch add its own without touching the core list.
 *
 * A plug-in is a file `bench/_<name>_rows.ts` (for example
 * `bench/_redis_rows.ts`). bench/http.ts imports every such file and appends
 * its `rows`; each of those rows names the file in `module`, and
 * bench/http_server.ts then builds that row's server by calling the file's
 * `build(mode, context)`. A plug-in that needs a service (a redis-server, a
 * PostgreSQL) exports `start()`, called once before the first round; what it
 * returns is passed to every server of its rows as environment variables,
 * and its `stop()` runs at the end (also when the run fails).
 *
 * ```ts ignore
 * // bench/_redis_rows.ts
 * import type { BuildContext, Built, Row } from "./_rows.ts";
 * export const rows: Row[] = [{
 *   id: "read-redis", label: "tessera read, redisStore", runtime: "deno",
 *   mode: "read", module: "_redis_rows.ts", floor: "floor-read-kv",
 *   bare: "raw-redis-read",
 * }];
 * export async function start() { … return { env: { REDIS_URL }, stop }; }
 * export async function build(mode: string, ctx: BuildContext): Promise<Built> { … }
 * ```
 *
 * @module
 */

/** A server's request handler. */
export type Handler = (request: Request) => Response | Promise<Response>;

/** Where a row's server runs. */
export type Runtime = "deno" | "bun" | "node";

/** One row of the benchmark. */
export interface Row {
  /** Unique id, for `--only` and for the comparisons below. */
  id: string;
  /** What the table calls it. */
  label: string;
  runtime: Runtime;
  /** Passed to the server (bench/http_server.ts, or `module`'s build). */
  mode: string;
  /** A plug-in file in bench/ whose `build` serves this row. */
  module?: string;
  /** The id of the stand-alone floor row this one is held against. */
  floor?: string;
  /** The id of the bare server or raw-store row it is held against. */
  bare?: string;
  /** The session layer of another project this row is (peers table). */
  peer?: boolean;
  /** Sessions already stored in a seeded KV file (growth rows). */
  seeded?: number;
  /** Connections (default `--connections`). */
  connections?: number;
  /** Requests in flight per connection (default `--pipelining`). */
  pipelining?: number;
  /** Measured on its own, not with the rows it is compared with. */
  alone?: boolean;
}

/** What a row's server builds. */
export interface Built {
  handler: Handler;
  /** The `Cookie` values the load generator spreads over its requests. */
  cookies: string[];
  close?: () => void;
}

/** What bench/http_server.ts hands a plug-in's `build`. */
export interface BuildContext {
  /** A KV file of the row's own (empty), or the seeded file. */
  kvPath: string;
  /** How many sessions to create. */
  sessions: number;
  isBun: boolean;
  /** The handler body every row shares: `new Response(\`visit ${n}\`)`. */
  reply(visits: number): Response;
}

/** A service a plug-in starts once for the whole run. */
export interface Service {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A `bench/_<name>_rows.ts` file. */
export interface RowModule {
  rows: Row[];
  start?: () => Promise<Service | undefined>;
  build?: (mode: string, context: BuildContext) => Promise<Built>;
}

/** Bun 1.4 drops or stalls HTTP/1.1 requests pipelined behind an async
 * handler (oven-sh/bun#38128), so Bun rows send one request at a time. */
const BUN = { runtime: "bun", pipelining: 1 } as const;
const DENO = { runtime: "deno" } as const;
/** Express answers pipelined requests in order; kept like Deno's rows. */
const NODE = { runtime: "node" } as const;

/** The Deno or Bun rows of one runtime: bare, raw, floors, tessera. */
function runtimeRows(prefix: string, runtime: typeof DENO | typeof BUN): Row[] {
  const p = (id: string) => `${prefix}${id}`;
  const name = runtime.runtime === "deno" ? "Deno" : "Bun";
  const kv = runtime.runtime === "deno" ? "KV file" : "@deno/kv file";
  return [
    { id: p("bare"), label: `bare ${name}.serve`, ...runtime, mode: "bare" },
    {
      id: p("raw-read"),
      label: `${name} raw KV read (get + JSON.parse)`,
      ...runtime,
      mode: "raw-read",
      bare: p("bare"),
    },
    {
      id: p("raw-cas"),
      label: `${name} raw KV write (get + check/set CAS)`,
      ...runtime,
      mode: "raw-cas",
      bare: p("bare"),
    },
    {
      id: p("floor-anon"),
      label: `${name} floor, anonymous`,
      ...runtime,
      mode: "floor-anon",
      bare: p("bare"),
    },
    {
      id: p("floor-read-memory"),
      label: `${name} floor, memory read`,
      ...runtime,
      mode: "floor-read-memory",
      bare: p("bare"),
    },
    {
      id: p("floor-write-memory"),
      label: `${name} floor, memory write`,
      ...runtime,
      mode: "floor-write-memory",
      bare: p("bare"),
    },
    {
      id: p("floor-read-kv"),
      label: `${name} floor, ${kv} read`,
      ...runtime,
      mode: "floor-read-kv",
      bare: p("raw-read"),
    },
    {
      id: p("floor-write-kv"),
      label: `${name} floor, ${kv} write`,
      ...runtime,
      mode: "floor-write-kv",
      bare: p("raw-cas"),
    },
    {
      id: p("anon"),
      label: `${name} tessera anonymous`,
      ...runtime,
      // memoryStore, like the floor: no store is touched without a cookie.
      mode: "anon-memory",
      floor: p("floor-anon"),
      bare: p("bare"),
    },
    {
      id: p("read-memory"),
      label: `${name} tessera read, memoryStore`,
      ...runtime,
      mode: "read-memory",
      floor: p("floor-read-memory"),
      bare: p("bare"),
    },
    {
      id: p("write-memory"),
      label: `${name} tessera write, memoryStore`,
      ...runtime,
      mode: "write-memory",
      floor: p("floor-write-memory"),
      bare: p("bare"),
    },
    {
      id: p("read-kv"),
      label: `${name} tessera read, ${kv}`,
      ...runtime,
      mode: "read-kv",
      floor: p("floor-read-kv"),
      bare: p("raw-read"),
    },
    {
      id: p("write-kv"),
      label: `${name} tessera write, ${kv}`,
      ...runtime,
      mode: "write-kv",
      floor: p("floor-write-kv"),
      bare: p("raw-cas"),
    },
  ];
}

/** Sessions stored in the growth rows' seeded KV files. */
export const GROWTH = [1_000, 100_000, 1_000_000];

/** The core rows, in the order each round runs them. */
export const ROWS: Row[] = [
  ...runtimeRows("", DENO),
  {
    id: "hot",
    label: "tessera hot session (32 clients, 1 session, KV)",
    ...DENO,
    mode: "hot-kv",
    connections: 32,
    bare: "write-kv",
    // A write storm on one session: compared with, not timed beside, the
    // write row (its warm-up alone runs to the 15 s cap).
    alone: true,
  },
  { id: "hono-bare", label: "bare Hono (Deno)", ...DENO, mode: "hono-bare" },
  {
    id: "hono-sessions",
    label: "hono-sessions MemoryStore, counter (Deno)",
    ...DENO,
    mode: "hono-sessions",
    bare: "hono-bare",
    peer: true,
  },
  {
    id: "hono-sessions-iron",
    label: "hono-sessions MemoryStore + encryptionKey, counter (Deno)",
    ...DENO,
    mode: "hono-sessions-iron",
    bare: "hono-bare",
    peer: true,
  },
  {
    id: "express-bare",
    label: "bare Express (Node)",
    ...NODE,
    mode: "express-bare",
  },
  {
    id: "express-session",
    label: "express-session MemoryStore, counter (Node)",
    ...NODE,
    mode: "express-session",
    bare: "express-bare",
    peer: true,
  },
  ...GROWTH.flatMap((n): Row[] => [
    {
      id: `grow-read-${n}`,
      label: `tessera read, KV file of ${n.toLocaleString("en")} sessions`,
      ...DENO,
      mode: "read-kv",
      seeded: n,
      bare: "read-kv",
    },
    {
      id: `grow-write-${n}`,
      label: `tessera write, KV file of ${n.toLocaleString("en")} sessions`,
      ...DENO,
      mode: "write-kv",
      seeded: n,
      bare: "write-kv",
    },
  ]),
  ...runtimeRows("bun-", BUN),
];

/**
 * The rows in groups measured together, a slice each in turn (bench/http.ts):
 * a row joins the rows it is compared with, its floor and its raw store, so
 * a ratio compares servers loaded through the same moments of a shared
 * machine. A bare server (a row compared with nothing) is not joined: every
 * row is compared with one, and the targets are against floors and raw
 * stores. Growth rows (their KV files are shared) and rows marked `alone`
 * run on their own. Groups keep the order of `rows`, by their first row.
 *
 * @param rows The rows of the run, in order.
 * @returns The groups, in order.
 */
export function comparisonGroups(rows: Row[]): Row[][] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const groupOf = new Map<string, Row[]>();
  const groups: Row[][] = [];
  const join = (a: Row, b: Row): void => {
    const ga = groupOf.get(a.id)!;
    const gb = groupOf.get(b.id)!;
    if (ga === gb) return;
    ga.push(...gb);
    for (const row of gb) groupOf.set(row.id, ga);
    groups.splice(groups.indexOf(gb), 1);
  };
  for (const row of rows) {
    const group = [row];
    groups.push(group);
    groupOf.set(row.id, group);
  }
  const joins = (row: Row | undefined): row is Row =>
    row !== undefined && row.seeded === undefined && !row.alone;
  for (const row of rows) {
    if (!joins(row)) continue;
    const floor = byId.get(row.floor ?? "");
    if (joins(floor)) join(row, floor);
    const bare = byId.get(row.bare ?? "");
    if (joins(bare) && bare.bare !== undefined) join(row, bare);
  }
  const order = new Map(rows.map((row, i) => [row.id, i]));
  for (const group of groups) {
    group.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  }
  return groups.sort((a, b) => order.get(a[0]!.id)! - order.get(b[0]!.id)!);
}

/** The plug-in row files in `dir` (bench/), imported, in name order. */
export async function pluginModules(
  dir: URL,
): Promise<{ file: string; module: RowModule }[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^_[a-z0-9_]+_rows\.ts$/.test(entry.name)) {
      files.push(entry.name);
    }
  }
  files.sort();
  const out = [];
  for (const file of files) {
    const module: RowModule = await import(new URL(file, dir).href);
    out.push({ file, module });
  }
  return out;
}

/** The value of the `session` cookie, hand-parsed as a raw server would. */
export function rawCookie(request: Request): string | null {
  const header = request.headers.get("cookie");
  if (header === null) return null;
  const start = header.indexOf("session=");
  if (start === -1) return null;
  const end = header.indexOf(";", start);
  return header.slice(start + 8, end === -1 ? undefined : end);
}
