/**
 * The PostgreSQL rows of the HTTP load benchmark: a bench/_rows.ts plug-in.
 *
 * tessera read and write on `postgresStore()` through a pg pool of
 * {@link POOL_SIZE} connections, against raw handlers on the same pool that
 * issue the same SQL a session cannot avoid: the store's own `SELECT` and a
 * JSON decode to read; that plus the store's own checked
 * `UPDATE … WHERE version = $v` to write, on tessera's own rows. `start()`
 * runs one PostgreSQL 15 for the whole run (tests/_postgres_server.ts) and
 * hands its URL to the rows' servers in `TESSERA_BENCH_POSTGRES`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import process from "node:process";
import {
  type BuildContext,
  type Built,
  rawCookie,
  type Row,
  type Service,
} from "./_rows.ts";
import { startPostgres } from "../tests/_postgres_server.ts";

/** Connections in the pg pool of every Postgres row. */
export const POOL_SIZE = 10;

const MODULE = "_postgres_rows.ts";
const ENV = "TESSERA_BENCH_POSTGRES";

/** The rows: raw SQL read and write, then tessera's against them. */
export const rows: Row[] = [
  {
    id: "pg-raw-read",
    label: `raw Postgres read (SELECT + JSON.parse), pg pool of ${POOL_SIZE}`,
    runtime: "deno",
    mode: "raw-read",
    module: MODULE,
    bare: "bare",
  },
  {
    id: "pg-raw-cas",
    label:
      `raw Postgres write (SELECT + checked UPDATE), pg pool of ${POOL_SIZE}`,
    runtime: "deno",
    mode: "raw-cas",
    module: MODULE,
    bare: "bare",
  },
  {
    id: "pg-read",
    label: `tessera read, postgresStore, pg pool of ${POOL_SIZE}`,
    runtime: "deno",
    mode: "read",
    module: MODULE,
    bare: "pg-raw-read",
  },
  {
    id: "pg-write",
    label: `tessera write, postgresStore, pg pool of ${POOL_SIZE}`,
    runtime: "deno",
    mode: "write",
    module: MODULE,
    bare: "pg-raw-cas",
  },
];

/** One PostgreSQL for the run; its URL goes to every row's server. */
export async function start(): Promise<Service> {
  const server = await startPostgres();
  return { env: { [ENV]: server.url }, stop: () => server.close() };
}

/** Builds the server of one of {@link rows}. */
export async function build(mode: string, ctx: BuildContext): Promise<Built> {
  const url = process.env[ENV];
  if (url === undefined) throw new Error(`${ENV} is not set: start() first`);
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
  const close = () => void pool.end();

  // The sessions, created through tessera, so the rows are tessera's own.
  const create = withSession((req) => {
    getSession<{ language: string }>(req).set("language", "en");
    return ctx.reply(
      getSession<{ visits: number }>(req).update("visits", () => 1),
    );
  }, { store });
  const tokens: string[] = [];
  for (let i = 0; i < ctx.sessions; i++) {
    const res = await create(new Request("http://127.0.0.1/"));
    await res.body?.cancel();
    const match = /^session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "");
    if (match === null) throw new Error("no session cookie");
    tokens.push(match[1]!);
  }

  if (mode === "read" || mode === "write") {
    const handler = mode === "write"
      ? (req: Request) =>
        ctx.reply(
          getSession<{ visits: number }>(req).update(
            "visits",
            (n = 0) => n + 1,
          ),
        )
      : (req: Request) =>
        ctx.reply(getSession<{ visits: number }>(req).get("visits") ?? 0);
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
  const ids = tokens.map((token) =>
    createHash("sha256").update(token).digest("base64url")
  );
  // ["session", id] as the store encodes it: each ASCII part, then 00 01.
  const keyOf = (id: string) =>
    `${hex(encoder.encode("session"))}0001${hex(encoder.encode(id))}0001`;
  const [first] = await query(select, [keyOf(ids[0]!)]);
  if (first === undefined) {
    throw new Error("postgresStore's key layout changed: update keyOf()");
  }
  const read = async (request: Request) => {
    const id = rawCookie(request);
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
    handler: mode === "raw-read"
      ? async (request) => {
        const found = await read(request);
        return ctx.reply(found?.record.data.visits ?? 0);
      }
      : async (request) => {
        const found = await read(request);
        if (found === undefined) return ctx.reply(0);
        const { record } = found;
        const visits = (record.data.visits ?? 0) + 1;
        record.data.visits = visits;
        record.seen = Date.now();
        const rows = await query(update, [
          found.key,
          hex(encoder.encode(JSON.stringify(record))),
          3_600_000,
          String(BigInt(found.version)),
        ]);
        if (rows.length === 0) return new Response("conflict", { status: 409 });
        return ctx.reply(visits);
      },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}
