/**
 * Redis memory per stored session: 100,000 sessions of about 200 bytes of
 * data each (the same data as bench/memory.ts), created through
 * `withSession` on `redisStore` (node-redis) on a fresh redis-server, read
 * from `INFO memory` (`used_memory`) before and after. Then 10,000 of them
 * log in (one user per 10 sessions) to measure the per-user index.
 *
 * Run: `deno run -A bench/redis_memory.ts` (bench/http.ts runs it and puts
 * the figures in bench/RESULTS.md). Prints one JSON line.
 *
 * @module
 */
import { createClient } from "redis";
import { getSession, redisStore, withSession } from "../mod.ts";
import { startRedis } from "../tests/conformance/_redis.ts";
import { sessionData } from "./_session_data.ts";

const SESSIONS = 100_000;
const LOGINS = 10_000;
const PARALLEL = 64;

/** Runs `count` requests, `PARALLEL` at a time. */
async function load(
  app: (request: Request) => Promise<Response>,
  count: number,
  query: (i: number) => string,
): Promise<void> {
  for (let start = 0; start < count; start += PARALLEL) {
    await Promise.all(
      Array.from(
        { length: Math.min(PARALLEL, count - start) },
        async (_, j) => {
          const res = await app(
            new Request(`http://localhost/?${query(start + j)}`),
          );
          if (res.status !== 204) throw new Error(`status ${res.status}`);
        },
      ),
    );
  }
}

const server = await startRedis(["--maxmemory-policy", "noeviction"]);
const r = await createClient({ url: server.url }).connect();
try {
  const store = redisStore({ send: (c, a) => r.sendCommand([c, ...a]) });
  const usedMemory = async (): Promise<number> => {
    const info = await r.info("memory");
    return Number(/used_memory:(\d+)/.exec(info)![1]);
  };
  let recordBytes = 0;
  const app = withSession(async (req) => {
    const session = getSession<ReturnType<typeof sessionData>>(req);
    const url = new URL(req.url);
    const i = Number(url.searchParams.get("i"));
    if (url.searchParams.has("login")) {
      await session.login(`user-${i % (LOGINS / 10)}`, { device: "bench" });
      return new Response(null, { status: 204 });
    }
    for (const [key, value] of Object.entries(sessionData(i))) {
      session.set(key as keyof ReturnType<typeof sessionData>, value as never);
    }
    return new Response(null, { status: 204 });
  }, {
    store: {
      ...store,
      commit(change) {
        for (const set of change.sets) {
          if (set.key[0] === "session") recordBytes = set.value.byteLength;
        }
        return store.commit(change);
      },
      list: (prefix) => store.list(prefix),
    },
  });

  const before = await usedMemory();
  await load(app, SESSIONS, (i) => `i=${i}`);
  const afterSessions = await usedMemory();
  const sessionRecordBytes = recordBytes;
  // Logins start new sessions (the index entries' cost on top of them).
  await load(app, LOGINS, (i) => `i=${i}&login`);
  const afterLogins = await usedMemory();
  const loginRecordBytes = recordBytes;
  console.log(JSON.stringify({
    sessions: SESSIONS,
    perSession: Math.round((afterSessions - before) / SESSIONS),
    recordBytes: sessionRecordBytes,
    dataBytes: JSON.stringify(sessionData(SESSIONS - 1)).length,
    logins: LOGINS,
    perLogin: Math.round((afterLogins - afterSessions) / LOGINS),
    loginRecordBytes,
    redis: /redis_version:([\d.]+)/.exec(await r.info("server"))![1],
  }));
} finally {
  r.destroy();
  await server.stop();
}
