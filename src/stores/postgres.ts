/**
 * A {@link SessionStore} on PostgreSQL, through any client the application
 * already has (`pg`, postgres.js, `Bun.sql`).
 *
 * @module
 */
import type {
  SessionStore,
  StoreCommit,
  StoreEntry,
  StoreKey,
} from "../store.ts";
import {
  decodeKey,
  fromBytea,
  keyHex,
  prefixEndHex,
  toHex,
} from "./_byte_key.ts";
import { retrying } from "./_retry.ts";
import { SaveGate } from "./_save_gate.ts";

/**
 * What {@link postgresStore} needs of a PostgreSQL client: one method that
 * runs one statement with `$1, $2, …` parameters and resolves to its rows.
 * Each call may run on another pooled connection: the store never relies on
 * two calls sharing a connection or a transaction.
 *
 * @example The shims for pg, postgres.js and Bun.sql
 * ```ts ignore
 * import type { PostgresClient } from "@tessera/session";
 *
 * // pg:           const pool = new pg.Pool({ connectionString });
 * const fromPg: PostgresClient = {
 *   query: async (text, params) => (await pool.query(text, params)).rows,
 * };
 * // postgres.js:  const sql = postgres(connectionString);
 * // Bun:          const sql = new Bun.SQL(connectionString); (or Bun.sql)
 * const fromSql: PostgresClient = {
 *   query: (text, params) => sql.unsafe(text, params),
 * };
 * ```
 */
export interface PostgresClient {
  /**
   * Runs one SQL statement.
   *
   * @param text The statement, with `$n` placeholders.
   * @param params The placeholders' values: the store sends only strings,
   * numbers and nulls, so every driver binds them the same way.
   * @returns The rows, as objects keyed by column name.
   */
  query(
    text: string,
    params: (string | number | null)[],
  ): Promise<Record<string, unknown>[]>;
}

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /**
   * The table's name. Any characters are allowed (it is always quoted), up
   * to 48 bytes, so that the names derived from it (`<table>_version`,
   * `<table>_expires_at`, `<table>_pkey`) fit PostgreSQL's 63-byte limit.
   *
   * @default {"tessera_sessions"}
   */
  table?: string;
  /**
   * The schema of the table, its sequence and index. Absent: the client's
   * `search_path` decides (normally `public`). {@link PostgresStore.migrate}
   * does not create schemas.
   */
  schema?: string;
  /**
   * The largest value one entry may hold, in bytes. The default matches
   * Deno KV's limit, so an application behaves the same on every store; a
   * session is read whole on every request, so keep it small.
   *
   * @default {65536}
   */
  maxValueBytes?: number;
  /**
   * How often a statement is tried when PostgreSQL aborted it for a reason
   * that trying again resolves: a serialization failure (SQLSTATE 40001, at
   * `REPEATABLE READ` or `SERIALIZABLE`), a deadlock (40P01), or a key that
   * a concurrent commit created first (23505). An aborted statement applied
   * nothing, so trying again is safe. Errors of other kinds, and a lost
   * connection (the outcome unknown), are never retried here.
   *
   * @default {8}
   */
  retryAttempts?: number;
  /**
   * Every this many commits of this store object, one batch of expired rows
   * is deleted right after the commit (see {@link PostgresStore.sweep}).
   * `0` turns it off, for applications that call `sweep()` on a schedule.
   *
   * @default {1000}
   */
  sweepEvery?: number;
  /**
   * The most rows one sweep deletes.
   *
   * @default {500}
   */
  sweepBatch?: number;
}

/** A {@link SessionStore} on PostgreSQL, with its schema and cleanup. */
export interface PostgresStore extends SessionStore {
  /** The quoted, schema-qualified table name this store uses. */
  readonly table: string;
  /**
   * Creates the table, its version sequence and its expiry index if they
   * are missing, in one transaction under an advisory lock, so that several
   * processes starting at once are safe. Run it at deploy or start-up;
   * nothing else creates tables. Throws when a table of that name exists
   * with other columns.
   *
   * @returns When the schema is in place.
   */
  migrate(): Promise<void>;
  /**
   * Deletes up to `sweepBatch` expired rows, oldest expiry first, skipping
   * rows that a commit holds (`FOR UPDATE SKIP LOCKED`), through the expiry
   * index: never a full scan. Expired rows are never read as live either
   * way; this only frees the space.
   *
   * @returns How many rows were deleted; a full batch means more may wait.
   */
  sweep(): Promise<number>;
}

/** A 32-bit tag for tessera's advisory locks (`pg_advisory_xact_lock(tag, table)`). */
const LOCK_CLASS = 0x7e55e4a;
/** Rows fetched per statement while listing. */
const LIST_PAGE = 500;
/** Longest key, in encoded bytes: a btree entry must fit a third of a page
 * (2,704 bytes); the longest user id tessera allows (1 KiB, every byte NUL,
 * which encodes as 2) makes index keys of about 2,100. */
const MAX_KEY_BYTES = 2_600;
/** Longest table name: the derived names must fit PostgreSQL's 63 bytes. */
const MAX_TABLE_BYTES = 48;

/**
 * Stores sessions in a PostgreSQL table, with the same semantics as
 * {@link kvStore}: each commit is ONE statement (data-modifying CTEs), so it
 * is atomic through any connection pool; it locks the rows it checks
 * (`FOR UPDATE`), compares their versions, and writes only when all match.
 * Versionstamps come from a sequence and are never reused. Call
 * {@link PostgresStore.migrate} once before use.
 *
 * @param client Any object with `query(text, params)` resolving to rows.
 * @param options The table, value limit, retries and cleanup.
 * @returns A store for `withSession`'s `store` option.
 *
 * @example Sessions in PostgreSQL through pg
 * ```ts ignore
 * import pg from "pg";
 * import { postgresStore, withSession } from "@tessera/session";
 *
 * const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * const store = postgresStore({
 *   query: async (text, params) => (await pool.query(text, params)).rows,
 * });
 * await store.migrate();
 * Deno.serve(withSession(() => new Response("hi"), { store }));
 * ```
 */
export function postgresStore(
  client: PostgresClient,
  options: PostgresStoreOptions = {},
): PostgresStore {
  if (
    typeof client !== "object" || client === null ||
    typeof client.query !== "function"
  ) {
    throw new TypeError(
      `postgresStore() needs a client with query(text, params), got ${
        String(client)
      }`,
    );
  }
  const name = options.table ?? "tessera_sessions";
  checkName("table", name);
  if (options.schema !== undefined) checkName("schema", options.schema);
  const maxValueBytes = positiveInteger(
    "maxValueBytes",
    options.maxValueBytes ?? 65_536,
    2 ** 30 - 1,
  );
  const attempts = positiveInteger(
    "retryAttempts",
    options.retryAttempts ?? 8,
    100,
  );
  const sweepEvery = options.sweepEvery ?? 1000;
  if (!Number.isSafeInteger(sweepEvery) || sweepEvery < 0) {
    throw new RangeError(
      `postgresStore() sweepEvery must be a non-negative integer, got ${sweepEvery}`,
    );
  }
  const sweepBatch = positiveInteger(
    "sweepBatch",
    options.sweepBatch ?? 500,
    100_000,
  );

  const qualify = (object: string) =>
    options.schema === undefined
      ? ident(object)
      : `${ident(options.schema)}.${ident(object)}`;
  const table = qualify(name);
  const sql = statements(table, qualify(`${name}_version`));
  const indexName = ident(`${name}_expires_at`);
  const run = (text: string, params: (string | number | null)[]) =>
    retrying(attempts, isRetryable, () => client.query(text, params));
  let commitsSinceSweep = 0;
  const saves = new SaveGate(1024);

  async function sweep(): Promise<number> {
    const rows = await run(sql.sweep, [sweepBatch]);
    return Number(rows[0]?.n ?? 0);
  }

  return {
    table,
    maxValueBytes,
    async migrate(): Promise<void> {
      const body = [
        `PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, ${hash32(table)});`,
        `CREATE TABLE IF NOT EXISTS ${table} (`,
        "  key bytea PRIMARY KEY,",
        "  value bytea NOT NULL,",
        "  version bigint NOT NULL,",
        "  expires_at timestamptz",
        ");",
        `IF (SELECT count(*) FROM pg_attribute WHERE attrelid = ${
          dollarQuote(table)
        }::regclass AND NOT attisdropped AND attnum > 0 AND (attname, atttypid) IN (('key', 'bytea'::regtype), ('value', 'bytea'::regtype), ('version', 'int8'::regtype), ('expires_at', 'timestamptz'::regtype))) <> 4 THEN`,
        `  RAISE EXCEPTION 'table % exists without tessera''s columns (key bytea, value bytea, version bigint, expires_at timestamptz)', ${
          dollarQuote(table)
        };`,
        "END IF;",
        `CREATE SEQUENCE IF NOT EXISTS ${
          qualify(`${name}_version`)
        } AS bigint NO CYCLE OWNED BY ${table}.version;`,
        `CREATE INDEX IF NOT EXISTS ${indexName} ON ${table} (expires_at) WHERE expires_at IS NOT NULL;`,
      ].join("\n");
      await run(`DO ${dollarQuote(`BEGIN\n${body}\nEND`)}`, []);
    },
    async get(key: StoreKey): Promise<StoreEntry | null> {
      const rows = await run(sql.get, [keyHex(key)]);
      const row = rows[0];
      return row === undefined ? null : {
        key,
        value: fromBytea(row.value),
        versionstamp: String(row.version),
      };
    },
    async commit(change: StoreCommit): Promise<string | null> {
      const statement = commitStatement(sql, change, maxValueBytes);
      if (statement === null) return null;
      const [text, params] = statement;
      const send = async () => {
        const [row] = await run(text, params);
        return row === undefined ? null : String(row.version);
      };
      // A plain save: through the gate, keyed by the key, over its version.
      const version = text === sql.save
        ? await saves.run(String(params[0]), String(params[3]), send)
        : await send();
      if (version === null) return null;
      if (sweepEvery > 0 && ++commitsSinceSweep >= sweepEvery) {
        commitsSinceSweep = 0;
        // Housekeeping only: the commit has happened, so a failed sweep must
        // not report it as failed. The next sweep tries again.
        await sweep().catch(() => {});
      }
      return version;
    },
    async *list(prefix: StoreKey): AsyncIterable<StoreEntry> {
      const from = keyHex(prefix);
      const end = prefix.length === 0 ? null : prefixEndHex(from);
      let after = from;
      for (;;) {
        const rows = await run(
          end === null ? sql.listAll : sql.listRange,
          end === null ? [after, LIST_PAGE] : [after, end, LIST_PAGE],
        );
        for (const row of rows) {
          const bytes = fromBytea(row.key);
          yield {
            key: decodeKey(bytes),
            value: fromBytea(row.value),
            versionstamp: String(row.version),
          };
          after = toHex(bytes);
        }
        if (rows.length < LIST_PAGE) return;
      }
    },
    sweep,
  };
}

/** The SQL of one store. */
type Statements = ReturnType<typeof statements>;

/** The store's statements, for one quoted table and its sequence. */
function statements(table: string, sequence: string) {
  const live = "(expires_at IS NULL OR expires_at > now())";
  const version = "lpad(version::text, 20, '0') AS version";
  const nextVersion = `nextval(${dollarQuote(sequence)}::regclass)`;
  return {
    create: `INSERT INTO ${table} AS t (key, value, version, expires_at)
VALUES (decode($1, 'hex'), decode($2, 'hex'), ${nextVersion},
  now() + $3::float8 * interval '1 millisecond')
ON CONFLICT (key) DO UPDATE
SET value = EXCLUDED.value, version = EXCLUDED.version,
  expires_at = EXCLUDED.expires_at
WHERE t.expires_at <= now()
RETURNING ${version}`,
    save: `UPDATE ${table}
SET value = decode($2, 'hex'), version = ${nextVersion},
  expires_at = now() + $3::float8 * interval '1 millisecond'
WHERE key = decode($1, 'hex') AND version = $4::bigint AND ${live}
RETURNING ${version}`,
    get:
      `SELECT value, ${version} FROM ${table} WHERE key = decode($1, 'hex') AND ${live}`,
    listRange:
      `SELECT key, value, ${version} FROM ${table} WHERE key > decode($1, 'hex') AND key < decode($2, 'hex') AND ${live} ORDER BY key LIMIT $3`,
    listAll:
      `SELECT key, value, ${version} FROM ${table} WHERE key > decode($1, 'hex') AND ${live} ORDER BY key LIMIT $2`,
    sweep: `WITH doomed AS (
  SELECT key FROM ${table}
  WHERE expires_at <= now() ORDER BY expires_at LIMIT $1
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${table} t USING doomed WHERE t.key = doomed.key RETURNING 1
)
SELECT count(*)::text AS n FROM gone`,
    // One statement, so atomic whatever connection runs it. `locked` takes
    // row locks on every key the commit touches, in key order, and sees the
    // latest committed version of each (READ COMMITTED re-reads a row it
    // had to wait for); `verdict` compares the checks against it. Only when
    // all hold does `stamp` draw a version, and every write joins `stamp`,
    // so a failed check writes nothing. A key absent from the snapshot is
    // INSERTed, never upserted: if a concurrent commit created it meanwhile,
    // the unique index aborts the whole statement (23505) and the commit is
    // tried again, then seeing that row.
    commit: `WITH input AS MATERIALIZED (
  SELECT $1::text::jsonb AS j
), checks AS (
  SELECT decode(c->>0, 'hex') AS key, (c->>1)::bigint AS ver
  FROM input, jsonb_array_elements(j->'c') c
), sets AS (
  SELECT decode(s->>0, 'hex') AS key, decode(s->>1, 'hex') AS value,
    (s->>2)::float8 AS ms
  FROM input, jsonb_array_elements(j->'s') s
), locked AS MATERIALIZED (
  SELECT t.key, t.version, (t.expires_at IS NULL OR t.expires_at > now()) AS live
  FROM ${table} t
  WHERE t.key = ANY (ARRAY(
    SELECT decode(k, 'hex') FROM input, jsonb_array_elements_text(j->'k') k
  ))
  FOR UPDATE
), verdict AS MATERIALIZED (
  SELECT count(*) FILTER (
    WHERE c.key IS NOT NULL
      AND c.ver IS DISTINCT FROM (CASE WHEN l.live THEN l.version END)
  ) = 0 AS ok
  FROM checks c FULL JOIN locked l ON l.key = c.key
), stamp AS MATERIALIZED (
  SELECT nextval(${
      dollarQuote(sequence)
    }::regclass) AS version FROM verdict WHERE ok
), updated AS (
  UPDATE ${table} t
  SET value = s.value, version = stamp.version,
    expires_at = now() + s.ms * interval '1 millisecond'
  FROM sets s, stamp
  WHERE t.key = s.key AND t.key IN (SELECT key FROM locked)
  RETURNING 1
), inserted AS (
  INSERT INTO ${table} (key, value, version, expires_at)
  SELECT s.key, s.value, stamp.version, now() + s.ms * interval '1 millisecond'
  FROM sets s, stamp
  WHERE s.key NOT IN (SELECT key FROM locked)
  RETURNING 1
), deleted AS (
  DELETE FROM ${table} t USING stamp
  WHERE t.key = ANY (ARRAY(
    SELECT decode(d, 'hex') FROM input, jsonb_array_elements_text(j->'d') d
  ))
  RETURNING 1
)
SELECT ${version} FROM stamp`,
  };
}

/**
 * The statement and parameters of a commit, or `null` when its checks
 * contradict each other. The two most frequent commits get a plain
 * statement: a session saved over the version it was read at (an UPDATE,
 * which READ COMMITTED makes wait for a concurrent writer of the row and
 * then re-check against the row that writer left) and a session created
 * under a new key (an INSERT that overwrites only an expired row; a
 * concurrent insert of the key is waited for, then found live). Everything
 * else goes through the general statement.
 */
function commitStatement(
  sql: Statements,
  change: StoreCommit,
  maxValueBytes: number,
): [string, (string | number | null)[]] | null {
  const [check] = change.checks;
  const [set] = change.sets;
  if (
    change.checks.length === 1 && change.sets.length === 1 &&
    change.deletes.length === 0 && sameKey(check!.key, set!.key)
  ) {
    checkValue(set!.value, maxValueBytes);
    const params = [
      boundedKeyHex(set!.key),
      toHex(set!.value),
      set!.expireIn ?? null,
    ];
    return check!.versionstamp === null
      ? [sql.create, params]
      : [sql.save, [...params, versionNumber(check!.versionstamp)]];
  }
  const payload = commitPayload(change, maxValueBytes);
  return payload === null ? null : [sql.commit, [payload]];
}

function sameKey(a: StoreKey, b: StoreKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

function checkValue(value: Uint8Array, maxValueBytes: number): void {
  if (value.byteLength > maxValueBytes) {
    throw new RangeError(
      `Value of ${value.byteLength} bytes is over the limit of ${maxValueBytes} bytes`,
    );
  }
}

/**
 * The commit as one JSON parameter: `k` every key to lock, `c` the checks
 * as [key, version or null], `s` the sets as [key, value, expireIn or null],
 * `d` the deletes. `null` when the checks contradict each other.
 */
function commitPayload(
  change: StoreCommit,
  maxValueBytes: number,
): string | null {
  const locked = new Set<string>();
  const checks = new Map<string, string | null>();
  for (const check of change.checks) {
    const key = boundedKeyHex(check.key);
    const version = check.versionstamp === null
      ? null
      : versionNumber(check.versionstamp);
    if (checks.has(key) && checks.get(key) !== version) return null;
    checks.set(key, version);
    locked.add(key);
  }
  // The last write of a key wins, and a key both set and deleted is set.
  const sets = new Map<string, [string, string, number | null]>();
  for (const set of change.sets) {
    checkValue(set.value, maxValueBytes);
    const key = boundedKeyHex(set.key);
    sets.set(key, [key, toHex(set.value), set.expireIn ?? null]);
    locked.add(key);
  }
  const deletes = new Set<string>();
  for (const key of change.deletes) {
    const hex = boundedKeyHex(key);
    if (!sets.has(hex)) {
      deletes.add(hex);
      locked.add(hex);
    }
  }
  return JSON.stringify({
    k: [...locked],
    c: [...checks],
    s: [...sets.values()],
    d: [...deletes],
  });
}

/** A versionstamp as the bigint it stands for; one not of this store's form
 * becomes -1, which no row has, so its check fails. */
function versionNumber(stamp: string): string {
  if (!/^\d{1,20}$/.test(stamp)) return "-1";
  const n = BigInt(stamp);
  return n > 0x7fffffffffffffffn ? "-1" : n.toString();
}

function boundedKeyHex(key: StoreKey): string {
  const hex = keyHex(key);
  if (hex.length / 2 > MAX_KEY_BYTES) {
    throw new RangeError(
      `Key of ${
        hex.length / 2
      } bytes is over postgresStore()'s limit of ${MAX_KEY_BYTES} bytes (a very long user id?)`,
    );
  }
  return hex;
}

/** Errors after which PostgreSQL applied nothing and a retry may succeed. */
const RETRYABLE = new Set(["40001", "40P01", "23505"]);

/** Whether an error is a SQLSTATE that {@link RETRYABLE} lists. pg and
 * postgres.js put the SQLSTATE in `code`, Bun.sql in `errno`. */
function isRetryable(error: unknown): boolean {
  for (let e = error, depth = 0; depth < 3; depth++) {
    if (typeof e !== "object" || e === null) return false;
    const { code, errno } = e as { code?: unknown; errno?: unknown };
    if (RETRYABLE.has(String(code)) || RETRYABLE.has(String(errno))) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A quoted identifier: any text, `"` doubled. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `text` as a dollar-quoted literal, with a tag that `text` does not contain. */
function dollarQuote(text: string): string {
  let tag = "$t$";
  for (let n = 0; text.includes(tag); n++) tag = `$t${n}$`;
  return `${tag}${text}${tag}`;
}

function checkName(what: string, name: unknown): void {
  const bytes = typeof name === "string"
    ? new TextEncoder().encode(name).byteLength
    : 0;
  if (
    typeof name !== "string" || bytes === 0 || bytes > MAX_TABLE_BYTES ||
    name.includes("\0")
  ) {
    throw new RangeError(
      `postgresStore() ${what} must be a name of 1 to ${MAX_TABLE_BYTES} bytes without NUL, got ${
        JSON.stringify(name)
      }`,
    );
  }
}

function positiveInteger(what: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RangeError(
      `postgresStore() ${what} must be an integer from 1 to ${max}, got ${value}`,
    );
  }
  return value;
}

/** FNV-1a of a string, as a signed 32-bit integer (an advisory lock key). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h | 0;
}
