/**
 * Bytes per stored session in `memoryStore`: 100,000 sessions of about 200
 * bytes of data each, created through `withSession`.
 *
 * Run: `deno run --v8-flags=--expose-gc bench/memory.ts` (bench/http.ts runs
 * it and puts the figure in bench/RESULTS.md). Prints one JSON line.
 *
 * @module
 */
import { memoryStore, type SessionStore } from "../mod.ts";
import { sessionData, sessionWriter } from "./_session_data.ts";

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
const app = sessionWriter(measured);

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
