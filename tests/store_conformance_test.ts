// The shared conformance suite (tests/conformance/) on Deno: every store,
// withSession, Deno.serve and the Hono middleware. tests/bun/ runs the same
// suite on Bun.
import { kvStore, memoryStore } from "../mod.ts";
import {
  conformance,
  type Listen,
  type StoreFixture,
  tempDir,
} from "./conformance/mod.ts";
import {
  REDIS_CLUSTER_STORES,
  REDIS_STORES,
  stopSharedCluster,
} from "./_redis.ts";
import { POSTGRES_STORES } from "./_postgres.ts";

const stores: StoreFixture[] = [
  {
    name: "memoryStore()",
    open: () => Promise.resolve({ store: memoryStore(), close() {} }),
  },
  {
    name: "kvStore(Deno.openKv(:memory:))",
    async open() {
      const kv = await Deno.openKv(":memory:");
      return { store: kvStore(kv), close: () => kv.close() };
    },
  },
  {
    name: "kvStore(Deno.openKv(file))",
    async open() {
      const dir = tempDir();
      const kv = await Deno.openKv(`${dir.path}/sessions.db`);
      return {
        store: kvStore(kv),
        close() {
          kv.close();
          dir.remove();
        },
      };
    },
  },
  ...REDIS_STORES,
  ...REDIS_CLUSTER_STORES,
  ...POSTGRES_STORES,
];

const listen: Listen = (handler) => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    handler,
  );
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  });
};

conformance({
  name: "Deno",
  test: (name, fn) => Deno.test(name, fn),
  stores,
  listen,
});

// Last: the Redis Cluster the cluster fixtures started (tests/_redis.ts).
Deno.test("Redis Cluster fixtures: stop the cluster", stopSharedCluster);
