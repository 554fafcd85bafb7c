/**
 * What one request costs in process, without the network: `deno task bench`.
 *
 * Each group's baseline is the least a handler must do for that request:
 * nothing for a request without a cookie; one store read and a JSON decode
 * for a session that is only read; that plus one compare-and-swap for a
 * session that is written. The same handler body answers in every bench, and
 * the requests go round 256 sessions, each taking the next cookie.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  getSession,
  kvStore,
  memoryStore,
  type SessionStore,
  withSession,
} from "../mod.ts";
import { anonymousFloor, memoryFloor } from "./_floor.ts";

const SESSIONS = 256;
const URL_ = "http://127.0.0.1/";
const IDLE = 3_600_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The handler body every bench shares. */
function reply(visits: number): Response {
  return new Response(`visit ${visits}`);
}

type Visits = { visits: number; language: string };

const readHandler = (req: Request) =>
  reply(getSession<Visits>(req).get("visits") ?? 0);
const writeHandler = (req: Request) =>
  reply(getSession<Visits>(req).update("visits", (n = 0) => n + 1));

/** Creates the sessions through tessera; returns their cookies and ids. */
async function prime(
  store: SessionStore,
): Promise<{ cookies: string[]; ids: string[] }> {
  const create = withSession((req) => {
    getSession<Visits>(req).set("language", "en");
    return reply(getSession<Visits>(req).update("visits", () => 1));
  }, { store });
  const cookies: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const res = await create(new Request(URL_));
    const token = /^session=([^;]+)/.exec(res.headers.get("set-cookie")!)![1]!;
    cookies.push(`session=${token}`);
    ids.push(createHash("sha256").update(token).digest("base64url"));
  }
  return { cookies, ids };
}

/** Round-robin over the sessions: each request takes the next cookie. */
function rotation(cookies: string[]): () => Request {
  let i = 0;
  return () =>
    new Request(URL_, { headers: { cookie: cookies[i++ % cookies.length]! } });
}

/** The value of the `session` cookie, hand-parsed as a raw server would. */
function rawCookie(request: Request): string {
  const header = request.headers.get("cookie")!;
  const start = header.indexOf("session=");
  const end = header.indexOf(";", start);
  return header.slice(start + 8, end === -1 ? undefined : end);
}

// ---- fixtures ----

const kv = await Deno.openKv(":memory:");
const kvS = kvStore(kv);
const memS = memoryStore();
const kvSessions = await prime(kvS);
const memSessions = await prime(memS);
// Raw handlers get the store id as their cookie (no hashing: that is
// tessera's own cost), and read tessera's records under tessera's keys.
const kvIdCookies = kvSessions.ids.map((id) => `session=${id}`);
const memIdCookies = memSessions.ids.map((id) => `session=${id}`);
if ((await kv.get(["tessera", "session", kvSessions.ids[0]!])).value === null) {
  throw new Error("tessera's KV key layout changed: update the raw benches");
}

// ---- (a) a request without a cookie ----

const bare = (_req: Request) => reply(0);
const anonMemory = withSession(readHandler, { store: memS });
const anonKv = withSession(readHandler, { store: kvS });
const anonEvents = withSession(readHandler, { store: memS, onEvent: () => {} });

Deno.bench({
  name: "bare handler",
  group: "anonymous request",
  baseline: true,
  fn: () => {
    bare(new Request(URL_));
  },
});
const floorAnon = anonymousFloor();
Deno.bench({
  name: "floor (bench/_floor.ts: cookie lookup, session context, Vary)",
  group: "anonymous request",
  fn: () => {
    floorAnon(new Request(URL_));
  },
});
Deno.bench({
  name: "withSession, memoryStore",
  group: "anonymous request",
  fn: async () => {
    await anonMemory(new Request(URL_));
  },
});
Deno.bench({
  name: "withSession, kvStore(:memory:)",
  group: "anonymous request",
  fn: async () => {
    await anonKv(new Request(URL_));
  },
});
Deno.bench({
  name: "withSession, memoryStore, with an onEvent listener",
  group: "anonymous request",
  fn: async () => {
    await anonEvents(new Request(URL_));
  },
});

// ---- (b) a session that is only read ----

const rawKvRead = async (req: Request) => {
  const entry = await kv.get<Uint8Array>([
    "tessera",
    "session",
    rawCookie(req),
  ]);
  const record = JSON.parse(decoder.decode(entry.value!));
  return reply(record.data.visits ?? 0);
};
const rawMemRead = async (req: Request) => {
  const entry = await memS.get(["session", rawCookie(req)]);
  const record = JSON.parse(decoder.decode(entry!.value));
  return reply(record.data.visits ?? 0);
};
const kvRead = withSession(readHandler, { store: kvS });
const memRead = withSession(readHandler, { store: memS });
const nextKvRaw = rotation(kvIdCookies);
const nextKv = rotation(kvSessions.cookies);
const nextMemRaw = rotation(memIdCookies);
const nextMem = rotation(memSessions.cookies);

Deno.bench({
  name: "raw kv.get + JSON decode",
  group: "read, kvStore(:memory:)",
  baseline: true,
  fn: async () => {
    await rawKvRead(nextKvRaw());
  },
});
Deno.bench({
  name: "withSession",
  group: "read, kvStore(:memory:)",
  fn: async () => {
    await kvRead(nextKv());
  },
});
Deno.bench({
  name: "raw store.get + JSON decode",
  group: "read, memoryStore",
  baseline: true,
  fn: async () => {
    await rawMemRead(nextMemRaw());
  },
});
const floor = memoryFloor(SESSIONS);
const nextFloor = rotation(floor.cookies);
Deno.bench({
  name: "floor (bench/_floor.ts: hash, Map, decode + check, context)",
  group: "read, memoryStore",
  fn: () => {
    floor.read(nextFloor());
  },
});
Deno.bench({
  name: "withSession",
  group: "read, memoryStore",
  fn: async () => {
    await memRead(nextMem());
  },
});
// A listener costs nothing until an event: the session keeps the request's
// method and URL for its events, never the request (src/_emit.ts).
const memReadEvents = withSession(readHandler, {
  store: memS,
  onEvent: () => {},
});
const nextMemEvents = rotation(memSessions.cookies);
Deno.bench({
  name: "withSession with an onEvent listener",
  group: "read, memoryStore",
  fn: async () => {
    await memReadEvents(nextMemEvents());
  },
});

// ---- (c) a session that is written ----

const rawKvWrite = async (req: Request) => {
  const key = ["tessera", "session", rawCookie(req)];
  const entry = await kv.get<Uint8Array>(key);
  const record = JSON.parse(decoder.decode(entry.value!));
  const visits = record.data.visits = (record.data.visits ?? 0) + 1;
  record.seen = Date.now();
  const result = await kv.atomic().check(entry)
    .set(key, encoder.encode(JSON.stringify(record)), { expireIn: IDLE })
    .commit();
  if (!result.ok) throw new Error("conflict");
  return reply(visits);
};
const rawMemWrite = async (req: Request) => {
  const key = ["session", rawCookie(req)];
  const entry = await memS.get(key);
  const record = JSON.parse(decoder.decode(entry!.value));
  const visits = record.data.visits = (record.data.visits ?? 0) + 1;
  record.seen = Date.now();
  const result = await memS.commit({
    checks: [{ key, versionstamp: entry!.versionstamp }],
    sets: [{
      key,
      value: encoder.encode(JSON.stringify(record)),
      expireIn: IDLE,
    }],
    deletes: [],
  });
  if (result === null) throw new Error("conflict");
  return reply(visits);
};
const kvWrite = withSession(writeHandler, { store: kvS });
const memWrite = withSession(writeHandler, { store: memS });

Deno.bench({
  name: "raw kv.get + atomic().check().set()",
  group: "write, kvStore(:memory:)",
  baseline: true,
  fn: async () => {
    await rawKvWrite(nextKvRaw());
  },
});
Deno.bench({
  name: "withSession",
  group: "write, kvStore(:memory:)",
  fn: async () => {
    await kvWrite(nextKv());
  },
});
Deno.bench({
  name: "raw store.get + store.commit()",
  group: "write, memoryStore",
  baseline: true,
  fn: async () => {
    await rawMemWrite(nextMemRaw());
  },
});
Deno.bench({
  name: "floor (bench/_floor.ts: read + encode + versioned set)",
  group: "write, memoryStore",
  fn: () => {
    floor.write(nextFloor());
  },
});
Deno.bench({
  name: "withSession",
  group: "write, memoryStore",
  fn: async () => {
    await memWrite(nextMem());
  },
});
