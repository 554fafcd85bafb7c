/**
 * Bytes per stored session in `memoryStore`: 100,000 sessions of about 200
 * bytes of data each, created through `withSession`.
 *
 * Run: `deno run --v8-flags=--expose-gc bench/memory.ts` (bench/http.ts runs
 * it and puts the figure in bench/RESULTS.md). Prints one JSON line.
 *
 * @module
 */
import {
  getSession,
  memoryStore,
  type SessionStore,
  withSession,
} from "../mod.ts";
import { sessionData } from "./_session_data.ts";

const SESSIONS = 100_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  throw new Error("run with --v8-flags=--expose-gc");
}

function used(): number {
  for (let i = 0; i < 3; i++) gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const before = used();
let store: SessionStore | undefined = memoryStore();
let recordBytes = 0;
const inner = store;
const measured: SessionStore = {
  maxValueBytes: inner.maxValueBytes,
  get: (key) => inner.get(key),
  commit(change) {
    for (const set of change.sets) recordBytes = set.value.byteLength;
    return inner.commit(change);
  },
  list: (prefix) => inner.list(prefix),
};
const app = withSession((req) => {
  const session = getSession<ReturnType<typeof sessionData>>(req);
  const values = sessionData(Number(new URL(req.url).searchParams.get("i")));
  for (const [key, value] of Object.entries(values)) {
    session.set(key as keyof typeof values, value as never);
  }
  return new Response(null, { status: 204 });
}, { store: measured });

for (let i = 0; i < SESSIONS; i++) {
  const res = await app(new Request(`http://localhost/?i=${i}`));
  if (!res.headers.has("set-cookie")) throw new Error("no session was stored");
}
const after = used();

const dataBytes = JSON.stringify(sessionData(SESSIONS - 1)).length;
console.log(JSON.stringify({
  sessions: SESSIONS,
  perSession: Math.round((after - before) / SESSIONS),
  recordBytes,
  dataBytes,
}));
store = undefined;
