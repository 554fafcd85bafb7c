// Helpers for the reliability suite: real stores, a tiny app, cookies, gates.
import {
  getSession,
  kvStore,
  memoryStore,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { gate } from "../_helpers.ts";
import { POSTGRES_STORES } from "../_postgres.ts";
import { REDIS_STORES } from "../_redis.ts";

export {
  type FaultDecision,
  faulty,
  type FaultyStore,
  type Gate,
  gate,
} from "../_helpers.ts";

/** A real store and how to dispose of it. */
export interface OpenStore {
  store: SessionStore;
  close(): Promise<void>;
}

/** A way to open a fresh real store. */
export interface StoreKind {
  name: string;
  open(): Promise<OpenStore>;
}

/** Real stores: Deno KV in memory, Deno KV on a temp file, memoryStore(),
 * redisStore() through node-redis and ioredis on a real redis-server,
 * and postgresStore() through pg and postgres.js on a real PostgreSQL. */
export const REAL_STORES: StoreKind[] = [
  {
    name: "kvStore(:memory:)",
    async open() {
      const kv = await Deno.openKv(":memory:");
      return {
        store: kvStore(kv),
        close: () => Promise.resolve(kv.close()),
      };
    },
  },
  {
    name: "kvStore(temp file)",
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "tessera-rel-" });
      const kv = await Deno.openKv(`${dir}/sessions.db`);
      return {
        store: kvStore(kv),
        async close() {
          kv.close();
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
  },
  {
    name: "memoryStore()",
    open: () =>
      Promise.resolve({ store: memoryStore(), close: () => Promise.resolve() }),
  },
  ...REDIS_STORES,
  ...POSTGRES_STORES,
];

/**
 * The live session records of a store, decoded. Sessions live under
 * `["session", id]`, the layout tests/_helpers.ts relies on too.
 */
export async function sessionRecords(
  store: SessionStore,
): Promise<{ key: readonly string[]; record: StoredRecord }[]> {
  const out = [];
  for await (const entry of store.list(["session"])) {
    out.push({
      key: entry.key,
      record: JSON.parse(new TextDecoder().decode(entry.value)),
    });
  }
  return out;
}

/** The keys of every live entry of a store, sessions and indexes alike. */
export async function allKeys(
  store: SessionStore,
): Promise<(readonly string[])[]> {
  const out = [];
  for await (const entry of store.list([])) out.push(entry.key);
  return out;
}

/** The parts of a stored record the suite looks at. */
export interface StoredRecord {
  data: Record<string, unknown>;
  user: string | null;
}

/** Counts arrivals and resolves when `n` have arrived. */
export function arrivals(n: number): { arrive(): void; all: Promise<void> } {
  let count = 0;
  const all = gate();
  if (n === 0) all.open();
  return {
    arrive() {
      if (++count === n) all.open();
    },
    all: all.promise,
  };
}

/**
 * Races a promise against a deadline so that a stuck race fails the test
 * instead of hanging it.
 */
export async function within<T>(
  ms: number,
  what: string,
  promise: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `name=value` pair of the session cookie a response sets, if any. */
export function sessionCookie(
  response: Response,
  name = "session",
): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(";")[0]!;
    if (pair.slice(0, pair.indexOf("=")) === name) return pair;
  }
  return undefined;
}

/** Whether a response tells the browser to drop the cookie `name`. */
export function clearsCookie(response: Response, name = "session"): boolean {
  return response.headers.getSetCookie().some((line) =>
    line.startsWith(`${name}=;`) && /;\s*Max-Age=0(;|$)/i.test(line)
  );
}

/** A request to the test app, with an optional cookie. */
export function request(path: string, cookie?: string): Request {
  return new Request(`http://localhost${path}`, {
    method: "GET",
    headers: cookie === undefined ? {} : { cookie },
  });
}

/**
 * The suite's app. Routes:
 * - `/inc`: `update("n", n + 1)`;
 * - `/set?k=K&v=V`: `set(K, V)`;
 * - `/get`: the session's values and user as JSON;
 * - `/login?u=U`, `/logout`, `/destroy`.
 *
 * `hold(path)` runs after the session was loaded and before the handler
 * acts, so a test can line requests up on the same loaded version.
 */
export function raceApp(
  store: SessionStore,
  hold: (path: string) => Promise<void> | void = () => {},
  options: SessionOptions = {},
): (request: Request) => Promise<Response> {
  return withSession(async (req) => {
    const url = new URL(req.url);
    const session = getSession(req);
    await hold(url.pathname);
    switch (url.pathname) {
      case "/inc":
        return new Response(
          String(session.update("n", (n = 0) => (n as number) + 1)),
        );
      case "/set":
        session.set(url.searchParams.get("k")!, url.searchParams.get("v"));
        return new Response("set");
      case "/get": {
        const values: Record<string, unknown> = {};
        for (const key of session.keys()) values[key] = session.get(key);
        return Response.json({ values, user: session.userId });
      }
      case "/login":
        await session.login(url.searchParams.get("u")!);
        return new Response("in");
      case "/logout":
        await session.logout();
        return new Response("out");
      case "/destroy":
        await session.destroy();
        return new Response("gone");
      default:
        return new Response("not found", { status: 404 });
    }
  }, { store, ...options });
}

/** Reads the app's `/get` for a cookie. */
export async function readSession(
  app: (request: Request) => Promise<Response>,
  cookie: string | undefined,
): Promise<{ values: Record<string, unknown>; user: string | null }> {
  const response = await app(request("/get", cookie));
  if (response.status !== 200) {
    throw new Error(`/get answered ${response.status}`);
  }
  return await response.json();
}

/** A real store wrapped to count compare-and-swap conflicts (commits that
 * returned `null`): each is a save that tessera re-read and retried. */
export interface ConflictCountingStore extends SessionStore {
  readonly conflicts: number;
  readonly commits: number;
}

/** Wraps a real store, counting commits and conflicts. */
export function conflictCounting(inner: SessionStore): ConflictCountingStore {
  let conflicts = 0;
  let commits = 0;
  return {
    get conflicts() {
      return conflicts;
    },
    get commits() {
      return commits;
    },
    maxValueBytes: inner.maxValueBytes,
    get: (key) => inner.get(key),
    async commit(change) {
      commits++;
      const result = await inner.commit(change);
      if (result === null) conflicts++;
      return result;
    },
    list: (prefix) => inner.list(prefix),
  };
}

/** Runs `fn` with console.error captured (the default onError logs). */
export async function capturingErrors<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; logged: unknown[][] }> {
  const original = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    return { result: await fn(), logged };
  } finally {
    console.error = original;
  }
}
