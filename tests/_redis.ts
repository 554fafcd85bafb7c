// redisStore fixtures for the Deno suites: a fresh redis-server per store,
// reached through node-redis or ioredis with the README's one-line shims.
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisStore, type SessionStore } from "../mod.ts";
import { startRedis } from "./conformance/_redis.ts";

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
