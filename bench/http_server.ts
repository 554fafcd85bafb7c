/**
 * One server of the HTTP load benchmark (bench/http.ts starts it, on Deno or
 * on Bun, once per row, and kills it afterwards).
 *
 * Usage: `deno run -A bench/http_server.ts <mode> <kv-file> [sessions]
 *        [--seeded] [--module=_name_rows.ts]`
 *    or `bun bench/http_server.ts …` (the same arguments)
 *
 * `--seeded`: the KV file already holds sessions made by scripts/seed_kv.ts;
 * none are created, and the cookies are the first `sessions` seeded tokens.
 * `--module`: the row belongs to a plug-in (bench/_rows.ts), whose `build`
 * makes the server.
 *
 * It listens on 127.0.0.1 on a free port, creates the sessions its row needs
 * (through tessera's public API, so the stored records are tessera's own),
 * and prints one JSON line: `{ "port": …, "cookies": [ "session=…", … ] }`.
 *
 * Every row answers with the same handler body, {@link reply}; the baselines
 * do the same KV operations a session cannot avoid: one `get` and a JSON
 * decode for a read; that plus one `atomic().check().set(…, { expireIn })`
 * for a write, on the same keys and the same record bytes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import process from "node:process";
import {
  type BuildContext,
  type Built,
  type Handler,
  rawCookie,
  type RowModule,
} from "./_rows.ts";
import {
  anonymousFloor,
  type FloorKv,
  kvFloor,
  memoryFloor,
} from "./_floor.ts";
import { seedToken } from "../scripts/seed_kv.ts";
import {
  getSession,
  type KvLike,
  kvStore,
  memoryStore,
  type SessionStore,
  withSession,
} from "../mod.ts";
import { buildRedis, isRedisMode, REDIS_MODES } from "./redis.ts";

/** The handler body every row shares. */
function reply(visits: number): Response {
  return new Response(`visit ${visits}`);
}

const MODES = [
  "bare",
  "raw-read",
  "raw-cas",
  "anon-kv",
  "read-kv",
  "write-kv",
  "anon-memory",
  "read-memory",
  "write-memory",
  "hot-kv",
  "hono-bare",
  "hono-sessions",
  "hono-sessions-iron",
  "floor-anon",
  "floor-read-memory",
  "floor-write-memory",
  "floor-read-kv",
  "floor-write-kv",
  ...REDIS_MODES,
] as const;
type Mode = typeof MODES[number];

const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const mode = args[0] as Mode;
const kvPath = args[1] ?? "";
const sessionCount = Number(args[2] ?? 256);
const seeded = flags.includes("--seeded");
const plugin = flags.find((f) => f.startsWith("--module="))?.slice(9);
if (
  (plugin === undefined && !MODES.includes(mode)) || kvPath === "" ||
  !(sessionCount >= 1)
) {
  throw new Error(
    `usage: http_server.ts <${MODES.join("|")}> <kv-file> [sessions]`,
  );
}
/** The part of Bun's API this file uses (declared here: Deno checks it). */
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: Handler;
  }): { port: number };
};
const isBun = typeof Bun !== "undefined";
const IDLE = 3_600_000;

/** Deno KV on Deno; the @deno/kv npm client on Bun (bytes only). */
async function openKv(path: string): Promise<KvLike & { close(): void }> {
  if (!isBun) return await Deno.openKv(path);
  const { openKv } = await import("@deno/kv");
  const bytesOnly = (): never => {
    throw new Error("tessera stores only Uint8Array values");
  };
  return await openKv(path, {
    encodeV8: bytesOnly,
    decodeV8: bytesOnly,
  }) as unknown as KvLike & { close(): void };
}

/** Creates `count` sessions through tessera and returns their tokens. */
async function primeTessera(
  store: SessionStore,
  count: number,
): Promise<string[]> {
  const create = withSession((req) => {
    getSession<{ visits: number; language: string }>(req).set(
      "language",
      "en",
    );
    return reply(getSession<{ visits: number }>(req).update("visits", () => 1));
  }, { store });
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await create(new Request("http://127.0.0.1/"));
    await res.body?.cancel();
    const cookie = res.headers.get("set-cookie") ?? "";
    const match = /^session=([^;]+)/.exec(cookie);
    if (match === null) throw new Error(`no session cookie: ${cookie}`);
    tokens.push(match[1]!);
  }
  return tokens;
}

/** The KV key tessera stores a token's session under (checked at start). */
function kvKey(id: string): string[] {
  return ["tessera", "session", id];
}

function tokenId(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A store that counts the commits whose check failed (the hot row). */
function counting(store: SessionStore): {
  store: SessionStore;
  stats: { commits: number; conflicts: number };
} {
  const stats = { commits: 0, conflicts: 0 };
  return {
    stats,
    store: {
      maxValueBytes: store.maxValueBytes,
      get: (key) => store.get(key),
      async commit(change) {
        const result = await store.commit(change);
        stats.commits++;
        if (result === null) stats.conflicts++;
        return result;
      },
      list: (prefix) => store.list(prefix),
    },
  };
}

/** The read or write row's handler: the visit counter, through tessera. */
function tesseraApp(store: SessionStore, write: boolean): Handler {
  const handler: Handler = write
    ? (req) =>
      reply(
        getSession<{ visits: number }>(req).update(
          "visits",
          (n = 0) => n + 1,
        ),
      )
    : (req) => reply(getSession<{ visits: number }>(req).get("visits") ?? 0);
  return withSession(handler, { store });
}

async function build(): Promise<Built> {
  if (plugin !== undefined) {
    if (!/^_[a-z0-9_]+_rows\.ts$/.test(plugin)) {
      throw new Error(`not a bench/_<name>_rows.ts plug-in: ${plugin}`);
    }
    const module: RowModule = await import(`./${plugin}`);
    if (module.build === undefined) throw new Error(`${plugin} has no build`);
    const context: BuildContext = {
      kvPath,
      sessions: sessionCount,
      isBun,
      reply,
    };
    return await module.build(mode, context);
  }
  if (isRedisMode(mode)) {
    // The second argument is a redis-server URL (bench/redis.ts).
    return await buildRedis(mode, kvPath, sessionCount, {
      reply,
      rawCookie,
      tokenId,
      primeTessera,
      withTessera: tesseraApp,
      isBun,
      idle: IDLE,
    });
  }
  switch (mode) {
    case "bare":
      return { handler: () => reply(0), cookies: [] };

    case "raw-read":
    case "raw-cas": {
      const kv = await openKv(kvPath);
      const tokens = await primeTessera(kvStore(kv), sessionCount);
      const ids = tokens.map(tokenId);
      const first = await kv.get(kvKey(ids[0]!));
      if (!(first.value instanceof Uint8Array)) {
        throw new Error("tessera's KV key layout changed: update kvKey()");
      }
      const cookies = ids.map((id) => `session=${id}`);
      if (mode === "raw-read") {
        return {
          cookies,
          close: () => kv.close(),
          handler: async (request) => {
            const id = rawCookie(request);
            if (id === null) return reply(0);
            const entry = await kv.get(kvKey(id));
            if (!(entry.value instanceof Uint8Array)) return reply(0);
            const record = JSON.parse(decoder.decode(entry.value));
            return reply(record.data.visits ?? 0);
          },
        };
      }
      return {
        cookies,
        close: () => kv.close(),
        handler: async (request) => {
          const id = rawCookie(request);
          if (id === null) return reply(0);
          const key = kvKey(id);
          const entry = await kv.get(key);
          if (!(entry.value instanceof Uint8Array)) return reply(0);
          const record = JSON.parse(decoder.decode(entry.value));
          const visits = (record.data.visits ?? 0) + 1;
          record.data.visits = visits;
          record.seen = Date.now();
          const result = await kv.atomic()
            .check({ key, versionstamp: entry.versionstamp })
            .set(key, encoder.encode(JSON.stringify(record)), {
              expireIn: IDLE,
            })
            .commit();
          if (!result.ok) return new Response("conflict", { status: 409 });
          return reply(visits);
        },
      };
    }

    case "anon-kv":
    case "read-kv":
    case "write-kv":
    case "anon-memory":
    case "read-memory":
    case "write-memory": {
      const kv = mode.endsWith("-kv") ? await openKv(kvPath) : undefined;
      const store = kv === undefined ? memoryStore() : kvStore(kv);
      const tokens = mode.startsWith("anon")
        ? []
        : seeded
        ? Array.from({ length: sessionCount }, (_, i) => seedToken(i))
        : await primeTessera(store, sessionCount);
      return {
        handler: tesseraApp(store, mode.startsWith("write")),
        cookies: tokens.map((token) => `session=${token}`),
        close: () => kv?.close(),
      };
    }

    case "hot-kv": {
      const kv = await openKv(kvPath);
      const { store, stats } = counting(kvStore(kv));
      const [token] = await primeTessera(store, 1);
      const key = kvKey(tokenId(token!));
      const app = withSession(
        (req) =>
          reply(
            getSession<{ visits: number }>(req).update(
              "visits",
              (n = 0) => n + 1,
            ),
          ),
        { store },
      );
      // Responses that told the client its increment was saved, and the
      // requests still being answered (the stats wait for none).
      let acknowledged = 0;
      let refused = 0;
      let inFlight = 0;
      return {
        cookies: [`session=${token}`],
        close: () => kv.close(),
        handler: async (request) => {
          if (!request.url.endsWith("/__stats")) {
            inFlight++;
            try {
              const response = await app(request);
              if (response.ok) acknowledged++;
              else refused++;
              return response;
            } finally {
              inFlight--;
            }
          }
          // Requests the load generator gave up on at the end of its run
          // may still be retrying: wait for them (at most 30 s).
          for (let i = 0; i < 3000 && inFlight > 0; i++) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          const entry = await kv.get(key);
          const record = JSON.parse(decoder.decode(entry.value as Uint8Array));
          return Response.json({
            ...stats,
            acknowledged,
            refused,
            inFlight,
            visits: record.data.visits,
          });
        },
      };
    }

    case "floor-anon":
      return { handler: anonymousFloor(), cookies: [] };

    case "floor-read-memory":
    case "floor-write-memory": {
      const floor = memoryFloor(sessionCount);
      return {
        handler: mode === "floor-read-memory" ? floor.read : floor.write,
        cookies: floor.cookies,
      };
    }

    case "floor-read-kv":
    case "floor-write-kv": {
      const kv = await openKv(kvPath);
      const floor = await kvFloor(kv as unknown as FloorKv, sessionCount);
      return {
        handler: mode === "floor-read-kv" ? floor.read : floor.write,
        cookies: floor.cookies,
        close: () => kv.close(),
      };
    }

    case "hono-bare":
    case "hono-sessions":
    case "hono-sessions-iron": {
      const { Hono } = await import("hono");
      const { MemoryStore, sessionMiddleware } = await import("hono-sessions");
      // deno-lint-ignore no-explicit-any
      const app = new Hono<{ Variables: { session: any } }>();
      if (mode === "hono-bare") {
        app.get("/", (c) => c.text("visit 0"));
        return { handler: (req) => app.fetch(req), cookies: [] };
      }
      app.use(
        "*",
        sessionMiddleware({
          store: new MemoryStore(),
          expireAfterSeconds: IDLE / 1000,
          // Without a key the cookie is the bare session id; the README
          // recommends one, which seals the id with iron-webcrypto.
          encryptionKey: mode === "hono-sessions-iron"
            ? "a-benchmark-key-of-at-least-32-characters"
            : undefined,
          cookieOptions: { sameSite: "Lax", path: "/", httpOnly: true },
        }),
      );
      app.get("/", (c) => {
        const session = c.get("session");
        const visits = (session.get("visits") || 0) + 1;
        session.set("visits", visits);
        return c.text(`visit ${visits}`);
      });
      const cookies: string[] = [];
      for (let i = 0; i < sessionCount; i++) {
        const res = await app.fetch(new Request("http://127.0.0.1/"));
        await res.body?.cancel();
        const match = /^(session=[^;]+)/.exec(
          res.headers.get("set-cookie") ?? "",
        );
        if (match === null) throw new Error("hono-sessions set no cookie");
        cookies.push(match[1]!);
      }
      return { handler: (req) => app.fetch(req), cookies };
    }
  }
}

const built = await build();
if (process.env.TESSERA_BENCH_PROFILE) {
  // --cpu-prof writes its profile on a normal exit, not on a kill.
  process.on("SIGTERM", () => process.exit(0));
}
if (isBun) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: built.handler,
  });
  console.log(JSON.stringify({ port: server.port, cookies: built.cookies }));
} else {
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen({ port }) {
      console.log(JSON.stringify({ port, cookies: built.cookies }));
    },
  }, built.handler);
}
