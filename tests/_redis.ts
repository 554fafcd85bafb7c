// redisStore fixtures for the Deno suites: a fresh redis-server per store,
// reached through node-redis or ioredis with the README's one-line shims.
import { Cluster, Redis } from "ioredis";
import { createClient, createCluster } from "redis";
import { type RedisClientLike, redisStore, type SessionStore } from "../mod.ts";
import { startRedis } from "./conformance/_redis.ts";
import {
  type RedisCluster,
  startRedisCluster,
} from "./conformance/_redis_cluster.ts";

export {
  freePort,
  type RedisServer,
  startRedis,
} from "./conformance/_redis.ts";

/** An open store on its own redis-server, and its disposal. */
export interface OpenRedisStore {
  store: SessionStore;
  close(): Promise<void>;
}

/** redisStore through node-redis, on a redis-server of its own. */
export async function openNodeRedis(): Promise<OpenRedisStore> {
  const server = await startRedis();
  try {
    const r = await createClient({ url: server.url }).connect();
    return {
      store: redisStore({ send: (c, a) => r.sendCommand([c, ...a]) }),
      async close() {
        try {
          r.destroy();
        } finally {
          await server.stop();
        }
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** redisStore through ioredis, on a redis-server of its own. */
export async function openIoredis(): Promise<OpenRedisStore> {
  const server = await startRedis();
  const r = new Redis(server.url, { lazyConnect: true });
  try {
    await r.connect();
    return {
      store: redisStore({ send: (c, a) => r.call(c, ...a) }),
      async close() {
        try {
          r.disconnect();
        } finally {
          await server.stop();
        }
      },
    };
  } catch (error) {
    r.disconnect();
    await server.stop();
    throw error;
  }
}

/** Both Redis fixtures, named for test titles. */
export const REDIS_STORES: {
  name: string;
  open(): Promise<OpenRedisStore>;
}[] = [
  { name: "redisStore(node-redis)", open: openNodeRedis },
  { name: "redisStore(ioredis)", open: openIoredis },
];

// One Redis Cluster per test file (starting one takes seconds): started by
// the first test that opens a cluster store, stopped by the file's last test
// (stopSharedCluster), or at exit. Each store gets a key prefix of its own,
// so tests do not see each other's keys.
let shared: Promise<RedisCluster> | undefined;
let prefixes = 0;

function sharedCluster(): Promise<RedisCluster> {
  shared ??= startRedisCluster().catch((error) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Stops the Redis Cluster of this test file, if one was started: register
 * it as the last test of every file that opens REDIS_CLUSTER_STORES. */
export async function stopSharedCluster(): Promise<void> {
  const cluster = shared;
  shared = undefined;
  if (cluster !== undefined) await (await cluster).stop();
}

globalThis.addEventListener("unload", () => {
  // Exit without the last test (a crash, an interrupted run): kill now.
  shared?.then((cluster) => cluster.nodes.forEach((node) => node.kill()));
});

/** A node-redis cluster client on the file's Redis Cluster, the README's
 * shim over it, and a key prefix no other store of the file uses. */
export async function nodeRedisCluster() {
  const cluster = await sharedCluster();
  const r = await createCluster({
    rootNodes: cluster.urls.map((url) => ({ url })),
  }).connect();
  const client: RedisClientLike = {
    send: (c, a, key) => r.sendCommand(key, false, [c, ...a]),
  };
  return {
    r,
    client,
    cluster,
    prefix: `tessera-${++prefixes}:`,
    close: () => r.destroy(),
  };
}

/** redisStore through node-redis's cluster client, on the file's cluster. */
export async function openNodeRedisCluster(): Promise<OpenRedisStore> {
  const { client, prefix, close } = await nodeRedisCluster();
  return {
    store: redisStore(client, { prefix }),
    close: () => Promise.resolve(close()),
  };
}

/** redisStore through ioredis' Cluster (it routes by the keys itself), on
 * the file's Redis Cluster. */
export async function openIoredisCluster(): Promise<OpenRedisStore> {
  const cluster = await sharedCluster();
  const r = new Cluster(
    cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port })),
    { lazyConnect: true },
  );
  try {
    await r.connect();
  } catch (error) {
    r.disconnect();
    throw error;
  }
  return {
    store: redisStore({ send: (c, a) => r.call(c, ...a) }, {
      prefix: `tessera-${++prefixes}:`,
    }),
    close: () => Promise.resolve(r.disconnect()),
  };
}

/** redisStore on a 3-node Redis Cluster, through node-redis and ioredis. */
export const REDIS_CLUSTER_STORES: {
  name: string;
  open(): Promise<OpenRedisStore>;
}[] = [
  { name: "redisStore(node-redis cluster)", open: openNodeRedisCluster },
  { name: "redisStore(ioredis cluster)", open: openIoredisCluster },
];
