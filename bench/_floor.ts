/**
 * The floor of the HTTP benchmark: stand-alone handlers (no tessera import)
 * that do only what the session contract requires of every request, so a
 * tessera row can be read as "this much above the least any session layer
 * can cost" rather than against a bare server that skips the work.
 *
 * What each floor does, and no more:
 * - read the `Cookie` header and find the `session` cookie;
 * - check the token's shape (43 base64url characters, canonical last one)
 *   and SHA-256 it to the store id (the store never sees the token), with
 *   the runtime's fastest synchronous built-in (Bun's `Bun.SHA256`, else
 *   node:crypto; tessera's own JavaScript SHA-256, which it uses on Deno
 *   where it is about twice as fast as node:crypto, is not a built-in);
 * - look the record up; decode it (UTF-8, JSON) and check it (version, the
 *   field types, the channel it was made on against the request's scheme,
 *   the idle and absolute timeouts);
 * - keep the session for the request: in a WeakMap keyed by the Request (for
 *   `getSession(req)`) and in AsyncLocalStorage (for `currentSession()`);
 * - answer with `Vary: Cookie` and `Cache-Control: private` (tessera's
 *   answer to a request that may carry a session: a shared cache must not
 *   serve one visitor's page to another);
 * - on a write, add the write's id to the record's list of recent write ids
 *   (issue 12 requires every commit to be recognisable after a lost reply,
 *   and one remembered id is not enough: the floor keeps tessera's 16), then
 *   encode the record and store it with a versioned check (compare-and-swap),
 *   409 when the check fails.
 *
 * The memory floor keeps its records in a plain `Map` and answers
 * synchronously; the KV floor makes one `get`, and one `atomic().check()
 * .set(…, { expireIn })` to write, on tessera's keys and record bytes; the
 * Redis floor (bench/redis.ts, through {@link storeFloor}) one `GET`, and
 * to write the `EVALSHA` compare-and-swap script redisStore sends.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomBytes } from "node:crypto";

/** What the floor keeps per request. */
interface FloorSession {
  id: string | null;
  data: Record<string, unknown>;
  record: Record<string, unknown> | null;
  versionstamp: string | null;
}

/** The part of Deno KV (or @deno/kv) the KV floor uses. */
export interface FloorKv {
  get(key: string[]): Promise<{ value: unknown; versionstamp: string | null }>;
  atomic(): {
    check(c: { key: string[]; versionstamp: string | null }): {
      set(key: string[], value: Uint8Array, o: { expireIn: number }): {
        commit(): Promise<{ ok: boolean }>;
      };
    };
  };
}

const IDLE = 3_600_000;
const ABSOLUTE = 86_400_000;
const TOKEN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const als = new AsyncLocalStorage<FloorSession>();
const sessions = new WeakMap<Request, FloorSession>();

/** Recent write ids a record keeps, and the characters of each: tessera's
 * (src/_record.ts), so the floor's records grow to the size of tessera's. */
const RECENT_WRITES = 16;
const WRITE_ID_LENGTH = 13;
const writer = randomBytes(6).toString("base64url");
let written = 36 ** 4;

/** Adds a new write id to a record's list, keeping the latest ones. */
function addWrite(record: Record<string, unknown>): void {
  const writes = typeof record.w === "string" ? record.w : "";
  const full = (RECENT_WRITES - 1) * WRITE_ID_LENGTH;
  const kept = writes.length > full
    ? writes.slice(writes.length - full)
    : writes;
  record.w = kept + writer + (written++).toString(36);
}

/** The handler body every row shares. */
function reply(visits: number): Response {
  const response = new Response(`visit ${visits}`);
  response.headers.set("vary", "Cookie");
  response.headers.set("cache-control", "private");
  return response;
}

/** The store id of the request's session token, or `null`. */
function sessionId(request: Request): string | null {
  const header = request.headers.get("cookie");
  if (header === null) return null;
  const start = header.indexOf("session=");
  if (start === -1 || (start > 0 && header[start - 2] !== ";")) return null;
  const end = header.indexOf(";", start);
  const token = header.slice(start + 8, end === -1 ? undefined : end);
  if (token.length !== 43 || !TOKEN.test(token)) return null;
  return hashToken(token);
}

/** Bun's one-shot `Bun.SHA256` (it hashes a string's UTF-8). */
const BUN_SHA256 = (globalThis as {
  Bun?: { SHA256?: { hash(input: string, encoding: "base64url"): string } };
}).Bun?.SHA256;

/** A token's SHA-256, base64url, by the runtime's fastest synchronous
 * built-in: on Bun its one-shot hash (about a quarter of createHash's
 * cost, and what tessera uses there), else node:crypto. */
function hashToken(token: string): string {
  return BUN_SHA256 !== undefined
    ? BUN_SHA256.hash(token, "base64url")
    : createHash("sha256").update(token).digest("base64url");
}

/** Decodes and checks a stored record (bytes, or text from a client that
 * returns strings) against the request's channel; `null` when it is no
 * session for this request. */
function decode(
  stored: unknown,
  now: number,
  request: Request,
): Record<string, unknown> | null {
  let text: string;
  if (typeof stored === "string") text = stored;
  else if (stored instanceof Uint8Array) text = decoder.decode(stored);
  else return null;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (
    typeof r !== "object" || r === null || r.v !== 1 ||
    typeof r.data !== "object" || r.data === null ||
    typeof r.created !== "number" || typeof r.seen !== "number" ||
    typeof r.https !== "boolean" ||
    (r.w !== undefined && typeof r.w !== "string") ||
    // The channel is part of the record: an HTTP session is not an HTTPS one.
    r.https !== request.url.startsWith("https:") ||
    now - r.seen >= IDLE || now - r.created >= ABSOLUTE
  ) {
    return null;
  }
  return r;
}

/** Runs the row's work inside the request's session context. */
function run(
  request: Request,
  session: FloorSession,
  work: (s: FloorSession) => Response | Promise<Response>,
): Response | Promise<Response> {
  sessions.set(request, session);
  return als.run(session, () => work(session));
}

const EMPTY = (): FloorSession => ({
  id: null,
  data: {},
  record: null,
  versionstamp: null,
});

/** Anonymous floor: the cookie is looked for, there is none. */
export function anonymousFloor(): (request: Request) => Response {
  return (request) => {
    if (sessionId(request) !== null) return reply(-1);
    return run(request, EMPTY(), () => reply(0)) as Response;
  };
}

/** The memory floor's store: a Map of bytes with a version each. */
export function memoryFloor(count: number): {
  cookies: string[];
  read: (request: Request) => Response;
  write: (request: Request) => Response;
} {
  const map = new Map<string, { value: Uint8Array; version: number }>();
  const cookies: string[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const token = randomBytes(32).toString("base64url");
    cookies.push(`session=${token}`);
    map.set(hashToken(token), {
      value: record(now),
      version: 1,
    });
  }
  const load = (request: Request): FloorSession => {
    const id = sessionId(request);
    if (id === null) return EMPTY();
    const slot = map.get(id);
    const rec = slot === undefined
      ? null
      : decode(slot.value, Date.now(), request);
    if (rec === null) return EMPTY();
    return {
      id,
      data: rec.data as Record<string, unknown>,
      record: rec,
      versionstamp: String(slot!.version),
    };
  };
  return {
    cookies,
    read: (request) =>
      run(
        request,
        load(request),
        (s) => reply((s.data.visits as number) ?? 0),
      ) as Response,
    write: (request) =>
      run(request, load(request), (s) => {
        const visits = ((s.data.visits as number) ?? 0) + 1;
        if (s.id === null || s.record === null) return reply(visits);
        s.data.visits = visits;
        s.record.seen = Date.now();
        addWrite(s.record);
        const slot = map.get(s.id);
        if (slot === undefined || String(slot.version) !== s.versionstamp) {
          return new Response("conflict", { status: 409 });
        }
        map.set(s.id, {
          value: encoder.encode(JSON.stringify(s.record)),
          version: slot.version + 1,
        });
        return reply(visits);
      }) as Response,
  };
}

/** What a remote floor needs of its store: one read and one checked write
 * of tessera's record under a session id. */
export interface FloorBackend {
  /** The record (bytes, or text as a Redis client returns it) and its
   * version, or `null`. */
  get(id: string): Promise<{ value: unknown; stamp: string | null } | null>;
  /** Writes `record` if the version is still `stamp`; `false` otherwise. */
  cas(id: string, stamp: string | null, record: string): Promise<boolean>;
}

/** The floor of a remote store (Deno KV, Redis): one read per request, and
 * one checked write on a write. */
export function storeFloor(backend: FloorBackend): {
  read: (request: Request) => Promise<Response>;
  write: (request: Request) => Promise<Response>;
} {
  const load = async (request: Request): Promise<FloorSession> => {
    const id = sessionId(request);
    if (id === null) return EMPTY();
    const entry = await backend.get(id);
    const rec = entry === null
      ? null
      : decode(entry.value, Date.now(), request);
    if (rec === null) return EMPTY();
    return {
      id,
      data: rec.data as Record<string, unknown>,
      record: rec,
      versionstamp: entry!.stamp,
    };
  };
  return {
    read: async (request) =>
      await run(
        request,
        await load(request),
        (s) => reply((s.data.visits as number) ?? 0),
      ),
    write: async (request) =>
      await run(request, await load(request), async (s) => {
        const visits = ((s.data.visits as number) ?? 0) + 1;
        if (s.id === null || s.record === null) return reply(visits);
        s.data.visits = visits;
        s.record.seen = Date.now();
        addWrite(s.record);
        const ok = await backend.cas(
          s.id,
          s.versionstamp,
          JSON.stringify(s.record),
        );
        if (!ok) return new Response("conflict", { status: 409 });
        return reply(visits);
      }),
  };
}

/** The KV floor: tessera's keys and records in a Deno KV (or @deno/kv). */
export async function kvFloor(kv: FloorKv, count: number): Promise<{
  cookies: string[];
  read: (request: Request) => Promise<Response>;
  write: (request: Request) => Promise<Response>;
}> {
  const cookies: string[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const token = randomBytes(32).toString("base64url");
    cookies.push(`session=${token}`);
    const key = kvKey(hashToken(token));
    await kv.atomic().check({ key, versionstamp: null }).set(
      key,
      record(now),
      { expireIn: IDLE },
    ).commit();
  }
  const floor = storeFloor({
    get: async (id) => {
      const entry = await kv.get(kvKey(id));
      return { value: entry.value, stamp: entry.versionstamp };
    },
    cas: async (id, stamp, text) => {
      const key = kvKey(id);
      const result = await kv.atomic()
        .check({ key, versionstamp: stamp })
        .set(key, encoder.encode(text), { expireIn: IDLE })
        .commit();
      return result.ok;
    },
  });
  return { cookies, ...floor };
}

function kvKey(id: string): string[] {
  return ["tessera", "session", id];
}

/** A record in tessera's layout: what the primed tessera sessions hold. */
function record(now: number): Uint8Array {
  return encoder.encode(JSON.stringify({
    v: 1,
    data: { language: "en", visits: 1 },
    created: now,
    seen: now,
    https: false,
    user: null,
  }));
}
