/**
 * The Redis rows of the HTTP load benchmark, kept apart from bench/http.ts
 * (which lists {@link REDIS_ROWS} and passes them a redis-server's URL) and
 * bench/http_server.ts (which builds their servers with {@link buildRedis}).
 *
 * Rows: tessera read and write on `redisStore` against raw handlers doing
 * the same Redis calls (read: `GET` + `JSON.parse`; write: that plus the
 * same `EVALSHA` compare-and-swap script redisStore sends) and against the
 * floor (bench/_floor.ts: those calls plus what the session contract
 * requires of every request), on Deno through node-redis and on Bun through
 * Bun's `RedisClient`. Then Redis memory per session
 * (bench/redis_memory.ts).
 *
 * @module
 */
import { jsonLine } from "./_json_line.ts";
import { storeFloor } from "./_floor.ts";
import { createClient } from "redis";
import { type RedisClientLike, redisStore, type SessionStore } from "../mod.ts";
import { COMMIT } from "../src/stores/_redis_scripts.ts";
import { saveCall } from "../src/stores/_redis_commit.ts";
import { type RedisServer, startRedis } from "../tests/conformance/_redis.ts";

/** The modes bench/http_server.ts serves through {@link buildRedis}. */
export const REDIS_MODES = [
  "redis-raw-read",
  "redis-raw-cas",
  "redis-floor-read",
  "redis-floor-write",
  "redis-read",
  "redis-write",
] as const;

type RedisMode = typeof REDIS_MODES[number];

/** Whether `mode` is one of {@link REDIS_MODES}. */
export function isRedisMode(mode: string): mode is RedisMode {
  return (REDIS_MODES as readonly string[]).includes(mode);
}

/** Rows of bench/http.ts, in its `Row` shape. */
export const REDIS_ROWS = [
  {
    id: "redis-raw-read",
    label: "raw Redis read (GET + JSON decode), node-redis",
    runtime: "deno",
    mode: "redis-raw-read",
  },
  {
    id: "redis-raw-cas",
    label: "raw Redis write (GET + EVALSHA CAS), node-redis",
    runtime: "deno",
    mode: "redis-raw-cas",
  },
  {
    id: "redis-floor-read",
    label: "Deno floor, Redis read (node-redis)",
    runtime: "deno",
    mode: "redis-floor-read",
  },
  {
    id: "redis-floor-write",
    label: "Deno floor, Redis write (node-redis)",
    runtime: "deno",
    mode: "redis-floor-write",
  },
  {
    id: "redis-read",
    label: "tessera read, redisStore (node-redis)",
    runtime: "deno",
    mode: "redis-read",
    floor: "redis-floor-read",
  },
  {
    id: "redis-write",
    label: "tessera write, redisStore (node-redis)",
    runtime: "deno",
    mode: "redis-write",
    floor: "redis-floor-write",
  },
  ...[
    ["raw-read", "Bun raw Redis read (GET + JSON decode), Bun.redis"],
    ["raw-cas", "Bun raw Redis write (GET + EVALSHA CAS), Bun.redis"],
    ["floor-read", "Bun floor, Redis read (Bun.redis)"],
    ["floor-write", "Bun floor, Redis write (Bun.redis)"],
    ["read", "Bun tessera read, redisStore (Bun.redis)", "floor-read"],
    ["write", "Bun tessera write, redisStore (Bun.redis)", "floor-write"],
  ].map(([mode, label, floor]) => ({
    id: `bun-redis-${mode}`,
    label: label!,
    runtime: "bun" as const,
    mode: `redis-${mode}`,
    ...(floor === undefined ? {} : { floor: `bun-redis-${floor}` }),
    // Bun 1.4 stalls pipelined requests behind async handlers (bench/http.ts).
    pipelining: 1,
  })),
] as const;

/** Each Redis row's compared row, in bench/http.ts's table. */
export const REDIS_BASELINE: Record<string, string> = {
  "redis-raw-read": "bare",
  "redis-raw-cas": "bare",
  "redis-floor-read": "redis-raw-read",
  "redis-floor-write": "redis-raw-cas",
  "redis-read": "redis-raw-read",
  "redis-write": "redis-raw-cas",
  "bun-redis-raw-read": "bun-bare",
  "bun-redis-raw-cas": "bun-bare",
  "bun-redis-floor-read": "bun-redis-raw-read",
  "bun-redis-floor-write": "bun-redis-raw-cas",
  "bun-redis-read": "bun-redis-raw-read",
  "bun-redis-write": "bun-redis-raw-cas",
};

/** Issue 12's targets, in bench/http.ts's `Target` shape. */
export const REDIS_TARGETS = [
  {
    name: "Redis read vs raw GET + JSON.parse (node-redis)",
    row: "redis-read",
    baseline: "redis-raw-read",
    target: 0.85,
  },
  {
    name: "Redis write vs raw EVALSHA CAS (node-redis)",
    row: "redis-write",
    baseline: "redis-raw-cas",
    target: 0.85,
  },
  {
    name: "Bun: Redis read vs raw GET + JSON.parse (Bun.redis)",
    row: "bun-redis-read",
    baseline: "bun-redis-raw-read",
    target: 0.85,
  },
  {
    name: "Bun: Redis write vs raw EVALSHA CAS (Bun.redis)",
    row: "bun-redis-write",
    baseline: "bun-redis-raw-cas",
    target: 0.85,
  },
];

// ---- the runner's side (bench/http.ts) ----

let server: RedisServer | undefined;

/**
 * The URL of the run's redis-server (started on first use, emptied before
 * every row so each row starts from its own 256 sessions).
 */
export async function redisUrl(): Promise<string> {
  server ??= await startRedis(["--maxmemory-policy", "noeviction"]);
  const flushed = await new Deno.Command("redis-cli", {
    args: ["-p", String(server.port), "FLUSHALL"],
    stdout: "null",
  }).output();
  if (!flushed.success) throw new Error("redis-cli FLUSHALL failed");
  return server.url;
}

/** Stops the run's redis-server, if one was started. */
export async function stopRedis(): Promise<void> {
  await server?.stop();
  server = undefined;
}

/** Figures of bench/redis_memory.ts, or undefined when it failed. */
export interface RedisMemory {
  sessions: number;
  perSession: number;
  recordBytes: number;
  dataBytes: number;
  logins: number;
  perLogin: number;
  loginRecordBytes: number;
  redis: string;
  /** Deno KV file bytes per session, the same sessions (bench/kv_size.ts). */
  kvPerSession?: number;
}

/** Runs bench/redis_memory.ts in its own process. */
export async function measureRedisMemory(
  rootPath: string,
): Promise<RedisMemory | undefined> {
  const run = (file: string) =>
    jsonLine([
      Deno.execPath(),
      "run",
      "-A",
      "--unstable-kv",
      `${rootPath}bench/${file}`,
    ], rootPath);
  const redis = await run("redis_memory.ts") as
    | Omit<RedisMemory, "kvPerSession">
    | undefined;
  const kv = await run("kv_size.ts") as { perSession: number } | undefined;
  return redis && { ...redis, kvPerSession: kv?.perSession };
}

/** The RESULTS.md paragraph for {@link RedisMemory}. */
export function redisMemoryLine(memory: RedisMemory): string {
  return `redisStore on Redis ${memory.redis} holding ${
    memory.sessions.toLocaleString("en")
  } sessions of ${memory.dataBytes} bytes of JSON data (${memory.recordBytes}-byte records): **${memory.perSession} bytes of Redis memory per session** (\`INFO memory\` used_memory, before and after, divided by the sessions); ${
    memory.logins.toLocaleString("en")
  } logged-in sessions (${memory.loginRecordBytes}-byte records, 10 per user) with their per-user index entries: **${memory.perLogin} bytes each** (\`deno run -A bench/redis_memory.ts\`). The same ${
    memory.sessions.toLocaleString("en")
  } sessions in a Deno KV file: **${
    memory.kvPerSession ?? "?"
  } bytes of file per session** (\`deno run -A --unstable-kv bench/kv_size.ts\`).`;
}

// ---- the server's side (bench/http_server.ts) ----

/** What bench/http_server.ts lends the Redis rows, so they prime and answer
 * exactly as its other rows do. */
export interface ServerKit {
  reply(visits: number): Response;
  rawCookie(request: Request): string | null;
  tokenId(token: string): string;
  primeTessera(store: SessionStore, count: number): Promise<string[]>;
  withTessera(
    store: SessionStore,
    write: boolean,
  ): (request: Request) => Response | Promise<Response>;
  isBun: boolean;
  idle: number;
}

/** A connected client: node-redis on Deno, Bun's RedisClient on Bun. */
async function connect(
  url: string,
  isBun: boolean,
): Promise<{ client: RedisClientLike; close(): void }> {
  if (isBun) {
    const Bun = (globalThis as unknown as {
      Bun: {
        RedisClient: new (url: string) => RedisClientLike & {
          connect(): Promise<void>;
          close(): void;
        };
      };
    }).Bun;
    const client = new Bun.RedisClient(url);
    await client.connect();
    return { client, close: () => client.close() };
  }
  const r = await createClient({ url }).connect();
  return {
    client: { send: (c, a) => r.sendCommand([c, ...a]) },
    close: () => r.destroy(),
  };
}

/** Builds the server of one Redis row. */
export async function buildRedis(
  mode: RedisMode,
  url: string,
  sessions: number,
  kit: ServerKit,
): Promise<{
  handler: (request: Request) => Response | Promise<Response>;
  cookies: string[];
  close: () => void;
}> {
  const { client, close } = await connect(url, kit.isBun);
  const store = redisStore(client);
  const tokens = await kit.primeTessera(store, sessions);
  if (mode === "redis-read" || mode === "redis-write") {
    return {
      handler: kit.withTessera(store, mode === "redis-write"),
      cookies: tokens.map((token) => `session=${token}`),
      close,
    };
  }
  // Raw and floor rows: tessera's own records, read and written by hand.
  const ids = tokens.map(kit.tokenId);
  const key = (id: string) => `tessera:session/${id}`;
  if (typeof await client.send("GET", [key(ids[0]!)]) !== "string") {
    throw new Error("redisStore's key layout changed: update bench/redis.ts");
  }
  // A stored value: a 32-character versionstamp, a type character, the
  // JSON record.
  const get = async (id: string) => {
    const stored = await client.send("GET", [key(id)]);
    if (typeof stored !== "string") return null;
    return { stamp: stored.slice(0, 32), value: stored.slice(33) };
  };
  // The same script, arguments and layout redisStore sends (one check, one
  // set with its expiry), built by the same code.
  const cas = async (id: string, stamp: string | null, record: string) => {
    const call = saveCall(key(id), stamp, "t" + record, String(kit.idle));
    let result: unknown;
    try {
      result = await client.send("EVALSHA", call);
    } catch {
      call[0] = COMMIT.source;
      result = await client.send("EVAL", call);
    }
    return typeof result === "string";
  };
  if (mode === "redis-floor-read" || mode === "redis-floor-write") {
    const floor = storeFloor({ get, cas });
    return {
      handler: mode === "redis-floor-read" ? floor.read : floor.write,
      cookies: tokens.map((token) => `session=${token}`),
      close,
    };
  }
  const read = async (request: Request) => {
    const id = kit.rawCookie(request);
    if (id === null) return undefined;
    const found = await get(id);
    if (found === null) return undefined;
    return { id, stamp: found.stamp, record: JSON.parse(found.value) };
  };
  const cookies = ids.map((id) => `session=${id}`);
  if (mode === "redis-raw-read") {
    return {
      cookies,
      close,
      handler: async (request) =>
        kit.reply((await read(request))?.record.data.visits ?? 0),
    };
  }
  return {
    cookies,
    close,
    handler: async (request) => {
      const found = await read(request);
      if (found === undefined) return kit.reply(0);
      const { id, stamp, record } = found;
      const visits = (record.data.visits ?? 0) + 1;
      record.data.visits = visits;
      record.seen = Date.now();
      if (!await cas(id, stamp, JSON.stringify(record))) {
        return new Response("conflict", { status: 409 });
      }
      return kit.reply(visits);
    },
  };
}
