/**
 * The PostgreSQL rows of the HTTP load benchmark (bench/http.ts lists them,
 * bench/http_server.ts serves them through {@link buildPostgres}).
 *
 * tessera read and write on `postgresStore()` through a pg pool of
 * {@link POOL_SIZE} connections, against raw handlers on the same pool that
 * issue the same SQL a session cannot avoid: the store's own `SELECT` and a
 * JSON decode to read; that plus the store's own checked
 * `UPDATE … WHERE version = $v` to write, on tessera's own rows.
 *
 * @module
 */
import {
  type PostgresServer,
  startPostgres,
} from "../tests/_postgres_server.ts";

/** Connections in the pg pool of every Postgres row. */
export const POOL_SIZE = 10;

/** The rows, in bench/http.ts's Row shape. */
export const POSTGRES_ROWS = [
  {
    id: "pg-raw-read",
    label: "raw Postgres read (SELECT + JSON decode), pg",
    runtime: "deno",
    mode: "raw-read-pg",
  },
  {
    id: "pg-raw-cas",
    label: "raw Postgres write (SELECT + checked UPDATE), pg",
    runtime: "deno",
    mode: "raw-cas-pg",
  },
  {
    id: "pg-read",
    label: "tessera read, postgresStore (pg)",
    runtime: "deno",
    mode: "read-pg",
  },
  {
    id: "pg-write",
    label: "tessera write, postgresStore (pg)",
    runtime: "deno",
    mode: "write-pg",
  },
] as const;

/** Which row each Postgres row is compared with. */
export const POSTGRES_BASELINE: Record<string, string> = {
  "pg-raw-read": "bare",
  "pg-raw-cas": "bare",
  "pg-read": "pg-raw-read",
  "pg-write": "pg-raw-cas",
};

/** The targets of issue 15. */
export const POSTGRES_TARGETS = [
  {
    name: `Postgres read vs raw SQL read (pg pool of ${POOL_SIZE})`,
    row: "pg-read",
    baseline: "pg-raw-read",
    target: 0.85,
  },
  {
    name: `Postgres write vs raw SQL CAS (pg pool of ${POOL_SIZE})`,
    row: "pg-write",
    baseline: "pg-raw-cas",
    target: 0.85,
  },
];

let server: Promise<PostgresServer> | undefined;

/**
 * The database URL for a Postgres row's server: one PostgreSQL for the whole
 * run, started on first use. Each row's server makes a table of its own.
 */
export async function postgresTarget(): Promise<string> {
  return (await (server ??= startPostgres())).url;
}

/** Stops the run's PostgreSQL, if one was started (it also stops when the
 * run's process ends, however it ends). */
export async function stopPostgres(): Promise<void> {
  const running = server;
  server = undefined;
  await (await running?.catch(() => undefined))?.close();
}

/** The server modes of the Postgres rows. */
export const POSTGRES_MODES = [
  "raw-read-pg",
  "raw-cas-pg",
  "read-pg",
  "write-pg",
] as const;

/** One of {@link POSTGRES_MODES}. */
export type PostgresMode = typeof POSTGRES_MODES[number];

/** Whether a server mode is one of this file's. */
export function isPostgresMode(mode: string): mode is PostgresMode {
  return (POSTGRES_MODES as readonly string[]).includes(mode);
}

/** What bench/http_server.ts shares with the Postgres rows. */
export interface ServerKit {
  /** Creates `count` sessions through tessera and returns their tokens. */
  primeTessera(
    store: import("../mod.ts").SessionStore,
    count: number,
  ): Promise<string[]>;
  /** The handler body every row shares. */
  reply(visits: number): Response;
  /** The `session` cookie's value, hand-parsed. */
  rawCookie(request: Request): string | null;
  /** The store id (SHA-256, base64url) of a token. */
  tokenId(token: string): string;
}

/** A row's server: its handler, the cookies to send, and its cleanup. */
export interface PostgresBuilt {
  handler: (request: Request) => Response | Promise<Response>;
  cookies: string[];
  close: () => void;
}

/** Builds the server of a Postgres `mode` on the database at `url`. */
export async function buildPostgres(
  mode: PostgresMode,
  url: string,
  sessions: number,
  kit: ServerKit,
): Promise<PostgresBuilt> {
  const { default: pg } = await import("pg");
  const { getSession, postgresStore, withSession } = await import(
    "../mod.ts"
  );
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  pool.on("error", () => {});
  const query = async (text: string, params: (string | number | null)[]) =>
    (await pool.query(text, params)).rows;
  const table = `bench ${mode} ${Date.now()}`;
  const store = postgresStore({ query }, { table, sweepEvery: 0 });
  await store.migrate();
  const tokens = await kit.primeTessera(store, sessions);
  const close = () => void pool.end();

  if (mode === "read-pg" || mode === "write-pg") {
    const handler = mode === "write-pg"
      ? (req: Request) =>
        kit.reply(
          getSession<{ visits: number }>(req).update(
            "visits",
            (n = 0) => n + 1,
          ),
        )
      : (req: Request) =>
        kit.reply(getSession<{ visits: number }>(req).get("visits") ?? 0);
    return {
      handler: withSession(handler, { store }),
      cookies: tokens.map((token) => `session=${token}`),
      close,
    };
  }

  // The raw handlers: the store's own statements, written out by hand.
  const quoted = `"${table}"`;
  const select =
    `SELECT value, lpad(version::text, 20, '0') AS version FROM ${quoted} WHERE key = decode($1, 'hex') AND (expires_at IS NULL OR expires_at > now())`;
  const update = `UPDATE ${quoted}
SET value = decode($2, 'hex'), version = nextval('"${table}_version"'::regclass),
  expires_at = now() + $3::float8 * interval '1 millisecond'
WHERE key = decode($1, 'hex') AND version = $4::bigint AND (expires_at IS NULL OR expires_at > now())
RETURNING lpad(version::text, 20, '0') AS version`;
  const ids = tokens.map(kit.tokenId);
  // ["session", id] as the store encodes it: each ASCII part, then 00 01.
  const keyOf = (id: string) => `${hex("session")}0001${hex(id)}0001`;
  const [first] = await query(select, [keyOf(ids[0]!)]);
  if (first === undefined) {
    throw new Error("postgresStore's key layout changed: update keyOf()");
  }
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const read = async (request: Request) => {
    const id = kit.rawCookie(request);
    if (id === null) return undefined;
    const [row] = await query(select, [keyOf(id)]);
    if (row === undefined) return undefined;
    return {
      key: keyOf(id),
      version: String(row.version),
      record: JSON.parse(decoder.decode(row.value as Uint8Array)),
    };
  };
  return {
    cookies: ids.map((id) => `session=${id}`),
    close,
    handler: mode === "raw-read-pg"
      ? async (request) => {
        const found = await read(request);
        return kit.reply(found?.record.data.visits ?? 0);
      }
      : async (request) => {
        const found = await read(request);
        if (found === undefined) return kit.reply(0);
        const { record } = found;
        const visits = (record.data.visits ?? 0) + 1;
        record.data.visits = visits;
        record.seen = Date.now();
        const value = bytesHex(encoder.encode(JSON.stringify(record)));
        const rows = await query(update, [
          found.key,
          value,
          3_600_000,
          String(BigInt(found.version)),
        ]);
        if (rows.length === 0) return new Response("conflict", { status: 409 });
        return kit.reply(visits);
      },
  };
}

function hex(ascii: string): string {
  return bytesHex(new TextEncoder().encode(ascii));
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

function bytesHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}
