// postgresStore() fixtures for the suites: this test file's PostgreSQL server
// (tests/_postgres_server.ts), the README's client shims for pg and
// postgres.js, and fresh tables.
import pg from "pg";
import postgres from "postgres";
import {
  type PostgresClient,
  type PostgresStore,
  postgresStore,
  type PostgresStoreOptions,
} from "../mod.ts";
import { type PostgresServer, startPostgres } from "./_postgres_server.ts";

export { type PostgresServer, startPostgres } from "./_postgres_server.ts";

/** A connected client for postgresStore() and how to disconnect it. */
export interface ConnectedClient {
  readonly client: PostgresClient;
  end(): Promise<void>;
}

/** A PostgreSQL client library under test, by name. */
export interface ClientKind {
  readonly name: string;
  connect(url: string, max?: number): ConnectedClient;
}

/** node-postgres, through the README's shim. */
export const PG: ClientKind = {
  name: "pg",
  connect(url, max = 10) {
    const pool = new pg.Pool({ connectionString: url, max });
    // A pooled connection that the server dropped (a restart) reports here;
    // the pool replaces it, and the query that used it has failed already.
    pool.on("error", () => {});
    return {
      client: {
        query: async (text, params) => (await pool.query(text, params)).rows,
      },
      end: () => pool.end(),
    };
  },
};

/** postgres.js, through the README's shim. */
export const POSTGRES_JS: ClientKind = {
  name: "postgres",
  connect(url, max = 10) {
    const sql = postgres(url, {
      max,
      onnotice: () => {},
      // postgres.js waits before reconnecting, up to 20 s once many
      // connects failed (its counter is shared by the pool and never
      // shrinks), and queues queries meanwhile: after a database restart,
      // requests would hang that long. docs/scaling.md (postgresStore) says so.
      backoff: () => 0.2,
    });
    return {
      client: { query: (text, params) => sql.unsafe(text, params) },
      end: () => sql.end({ timeout: 5 }),
    };
  },
};

let tables = 0;

/** Options of {@link postgresFixture}. */
export interface FixtureOptions extends PostgresStoreOptions {
  /** Creates the schema first, when `schema` is given. */
  createSchema?: boolean;
  /** Another database of this file's server (created if missing). */
  database?: string;
  /** Settings of that database (`ALTER DATABASE … SET name = value`). */
  databaseSettings?: Record<string, string>;
  /** Connections in the pool. */
  max?: number;
  /** Wraps the client, e.g. to watch or disturb its calls. */
  wrap?: (client: PostgresClient) => PostgresClient;
}

/** An open store on a fresh table, its client, and their disposal. */
export interface OpenPostgresStore {
  readonly store: PostgresStore;
  /** The client the store uses, for the tests' own SQL. */
  readonly client: PostgresClient;
  /** The store's options: `postgresStore(client, options)` makes another
   * store object on the same table, as another process would. */
  readonly options: PostgresStoreOptions;
  close(): Promise<void>;
}

let shared: Promise<PostgresServer> | undefined;

/**
 * This test file's PostgreSQL server, started on first use and stopped when
 * the file is done. A failed start fails every test that needs it.
 */
export function sharedPostgres(): Promise<PostgresServer> {
  return shared ??= startPostgres();
}

/**
 * A store fixture on this file's server through `kind`: each open()
 * connects, creates a fresh table (with quotes and a backslash in its name,
 * unless `table` is given) through migrate(), and close() drops it and
 * disconnects.
 */
export function postgresFixture(
  kind: ClientKind,
  options: FixtureOptions = {},
): {
  name: string;
  open(): Promise<OpenPostgresStore>;
} {
  const {
    createSchema,
    database,
    databaseSettings,
    max,
    wrap,
    ...storeOptions
  } = options;
  const where = options.schema === undefined
    ? ""
    : `, schema ${options.schema}`;
  return {
    name: `postgresStore(${kind.name}${where})`,
    async open() {
      const server = await sharedPostgres();
      const url = database === undefined
        ? server.url
        : await ensureDatabase(server, database, databaseSettings);
      const connected = kind.connect(url, max);
      const client = wrap?.(connected.client) ?? connected.client;
      const end = connected.end;
      try {
        if (createSchema && options.schema !== undefined) {
          await client.query(
            `CREATE SCHEMA IF NOT EXISTS "${
              options.schema.replaceAll('"', '""')
            }"`,
            [],
          );
        }
        const tableOptions = {
          table: `t${++tables} "it's" \\ ${kind.name}`,
          ...storeOptions,
        };
        const store = postgresStore(client, tableOptions);
        await store.migrate();
        return {
          store,
          client,
          options: tableOptions,
          async close() {
            try {
              await client.query(`DROP TABLE IF EXISTS ${store.table}`, []);
            } finally {
              await end();
            }
          },
        };
      } catch (error) {
        await end();
        throw error;
      }
    },
  };
}

/** postgresStore() through pg and through postgres.js, for the Deno suites. */
export const POSTGRES_STORES: ReturnType<typeof postgresFixture>[] = [
  postgresFixture(PG),
  postgresFixture(POSTGRES_JS, { schema: `app "schema"`, createSchema: true }),
];

const databases = new Map<string, Promise<string>>();

/** The URL of database `name` on `server`, created once with `settings`. */
function ensureDatabase(
  server: PostgresServer,
  name: string,
  settings: Record<string, string> = {},
): Promise<string> {
  let url = databases.get(name);
  if (url === undefined) {
    url = (async () => {
      const admin = PG.connect(server.url, 1);
      try {
        const quoted = `"${name.replaceAll('"', '""')}"`;
        await admin.client.query(`CREATE DATABASE ${quoted}`, []);
        for (const [setting, value] of Object.entries(settings)) {
          await admin.client.query(
            `ALTER DATABASE ${quoted} SET ${setting} = ${value}`,
            [],
          );
        }
      } finally {
        await admin.end();
      }
      return `${server.url.slice(0, server.url.lastIndexOf("/"))}/${
        encodeURIComponent(name)
      }`;
    })();
    databases.set(name, url);
  }
  return url;
}

/**
 * A migrated table `name` on this file's server, as a `postgres://` URL with
 * `?table=` for tests/reliability/_server.ts.
 */
export async function postgresTableUrl(name: string): Promise<string> {
  const server = await sharedPostgres();
  const { client, end } = PG.connect(server.url, 1);
  try {
    await postgresStore(client, { table: name }).migrate();
  } finally {
    await end();
  }
  const url = new URL(server.url);
  url.searchParams.set("table", name);
  return url.href;
}
