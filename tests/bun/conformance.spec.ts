// The shared conformance suite (tests/conformance/) on Bun: memoryStore(),
// Deno KV through @deno/kv with bunKvOptions, redisStore() through Bun's
// built-in RedisClient on a real redis-server, Bun.serve, the Hono middleware
// and the Elysia plugin on app.listen(). tests/store_conformance_test.ts runs
// the same suite on Deno.
import { openKv } from "@deno/kv";
import { kvStore, memoryStore, redisStore } from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";
import {
  conformance,
  type Listen,
  type ServeElysia,
  type StoreFixture,
  tempDir,
} from "../conformance/mod.ts";
import { startRedis } from "../conformance/_redis.ts";
import { Bun, type BunTest } from "./_bun.ts";
import { type ClientKind, postgresFixture } from "../_postgres.ts";

// `bun test` resolves this free name to bun:test's `test`.
declare const test: BunTest;

/** Bun's built-in client, through the README's shim. */
const BUN_SQL: ClientKind = {
  name: "Bun.sql",
  connect(url, max = 10) {
    const sql = new Bun.SQL(url, { max });
    return {
      client: { query: (text, params) => sql.unsafe(text, params) },
      end: () => sql.close({ timeout: 5 }),
    };
  },
};

const stores: StoreFixture[] = [
  {
    name: "memoryStore()",
    open: () => Promise.resolve({ store: memoryStore(), close() {} }),
  },
  {
    name: "kvStore(@deno/kv openKv(file, bunKvOptions))",
    async open() {
      const dir = tempDir();
      const kv = await openKv(`${dir.path}/sessions.db`, bunKvOptions);
      return {
        store: kvStore(kv),
        close() {
          kv.close();
          dir.remove();
        },
      };
    },
  },
  {
    name: "redisStore(Bun RedisClient)",
    async open() {
      const server = await startRedis();
      try {
        const client = new Bun.RedisClient(server.url);
        await client.connect();
        return {
          // Bun's client fits the store's interface as it is.
          store: redisStore(client),
          async close() {
            try {
              client.close();
            } finally {
              await server.stop();
            }
          },
        };
      } catch (error) {
        await server.stop();
        throw error;
      }
    },
  },
  postgresFixture(BUN_SQL),
];

const listen: Listen = (handler) => {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler });
  return Promise.resolve({
    url: `http://127.0.0.1:${server.port}`,
    close: () => server.stop(true),
  });
};

// Elysia's own Bun server, as an Elysia app is started.
const serveElysia: ServeElysia = (app) => {
  app.listen({ hostname: "127.0.0.1", port: 0 });
  return Promise.resolve({
    url: `http://127.0.0.1:${app.server!.port}`,
    close: async () => {
      await app.stop(true);
    },
  });
};

conformance({
  name: `Bun ${Bun.version}`,
  test,
  stores,
  listen,
  serveElysia,
});
