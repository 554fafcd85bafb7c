// The shared conformance suite (tests/conformance/) on Bun: memoryStore(),
// Deno KV through @deno/kv with bunKvOptions, Bun.serve and the Hono
// middleware. tests/store_conformance_test.ts runs the same suite on Deno.
import { openKv } from "@deno/kv";
import { kvStore, memoryStore } from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";
import {
  conformance,
  type Listen,
  type StoreFixture,
  tempDir,
} from "../conformance/mod.ts";
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
  postgresFixture(BUN_SQL),
];

const listen: Listen = (handler) => {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler });
  return Promise.resolve({
    url: `http://127.0.0.1:${server.port}`,
    close: () => server.stop(true),
  });
};

conformance({ name: `Bun ${Bun.version}`, test, stores, listen });
