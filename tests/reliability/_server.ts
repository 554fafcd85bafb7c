// A session server for the multi-process test and the load script:
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write --unstable-kv \
//     tests/reliability/_server.ts <kv file | redis://127.0.0.1:port | postgres://…?table=NAME>
// Prints {"port": N} on its first stdout line, serves on 127.0.0.1 only, and
// exits when its stdin closes (so it never outlives its parent) or after
// 120 s at most.
import pg from "pg";
import { createClient } from "redis";
import {
  getSession,
  kvStore,
  postgresStore,
  redisStore,
  SessionConflictError,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { conflictCounting } from "./_support.ts";

const path = Deno.args[0];
if (path === undefined) {
  console.error("usage: _server.ts <kv file | redis://… | postgres://…>");
  Deno.exit(2);
}

async function open(): Promise<
  { store: SessionStore; close(): void | Promise<void> }
> {
  if (path!.startsWith("postgres://")) {
    // That database's table (already migrated), through a pg pool.
    const url = new URL(path!);
    const table = url.searchParams.get("table") ?? undefined;
    url.searchParams.delete("table");
    const pool = new pg.Pool({ connectionString: url.href, max: 10 });
    pool.on("error", () => {}); // a connection the server dropped; replaced
    return {
      store: postgresStore({
        query: async (text, params) => (await pool.query(text, params)).rows,
      }, { table }),
      close: () => pool.end(),
    };
  }
  if (path!.startsWith("redis://")) {
    // node-redis reconnects by itself after the server restarts.
    const r = await createClient({ url: path }).connect();
    return {
      store: redisStore({ send: (c, a) => r.sendCommand([c, ...a]) }),
      close: () => r.destroy(),
    };
  }
  const kv = await Deno.openKv(path);
  return { store: kvStore(kv), close: () => kv.close() };
}

const opened = await open();
const store = conflictCounting(opened.store);
const failures: Record<string, number> = {};

const app = withSession((req) => {
  const session = getSession<{ n: number; [key: string]: unknown }>(req);
  const url = new URL(req.url);
  switch (url.pathname) {
    case "/inc":
      return new Response(String(session.update("n", (n = 0) => n + 1)));
    case "/set": {
      session.set(url.searchParams.get("k")!, url.searchParams.get("v"));
      return new Response("set");
    }
    case "/get": {
      const values: Record<string, unknown> = {};
      for (const key of session.keys()) values[key] = session.get(key);
      return Response.json(values);
    }
    default:
      return new Response("not found", { status: 404 });
  }
}, {
  store,
  onError(error) {
    const name = error instanceof SessionConflictError
      ? "conflict-exhausted"
      : error instanceof Error
      ? `${error.name}: ${
        (error.cause as Error | undefined)?.message ?? error.message
      }`
      : String(error);
    failures[name] = (failures[name] ?? 0) + 1;
    return new Response("Service Unavailable", { status: 503 });
  },
});

const controller = new AbortController();
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  signal: controller.signal,
  onListen: ({ port }) => console.log(JSON.stringify({ port })),
}, (req) => {
  if (new URL(req.url).pathname === "/stats") {
    return Response.json({
      commits: store.commits,
      conflicts: store.conflicts,
      failures,
    });
  }
  return app(req);
});

const deadline = setTimeout(() => controller.abort(), 120_000);
// Stop when the parent closes stdin (or dies).
(async () => {
  try {
    for await (const _ of Deno.stdin.readable) { /* drain */ }
  } finally {
    controller.abort();
  }
})();
await server.finished;
clearTimeout(deadline);
await opened.close();
