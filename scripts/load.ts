/**
 * A bounded load run: session server process(es) on one Deno KV file, driven
 * over loopback HTTP by many concurrent clients with a mix of increments,
 * writes and reads. Prints requests, errors, conflicts retried and lost
 * updates, and exits non-zero if any update was lost, any read was stale, or
 * any request failed.
 *
 *   deno task load [--requests=4000] [--clients=64] [--sessions=8]
 *                  [--processes=1] [--seconds=60] [--json]
 *
 * Guarantees checked:
 * - increments (`update`) compose: each session's final count equals the
 *   increments acknowledged with a 2xx (a 503 is not an acknowledgement);
 * - `set` is last-writer-wins per key: each client writes its own key in
 *   sequence, so the key must end at that client's last acknowledged value;
 * - a read started after an acknowledged write sees it (no stale read).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Cluster, startCluster } from "../tests/reliability/_cluster.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "4000" },
    clients: { type: "string", default: "64" },
    sessions: { type: "string", default: "8" },
    processes: { type: "string", default: "1" },
    seconds: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
  },
});

function positive(name: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    console.error(`--${name} must be an integer from 1 to ${max}, got ${text}`);
    Deno.exit(2);
  }
  return value;
}

const REQUESTS = positive("requests", flags.requests!, 100_000);
const CLIENTS = positive("clients", flags.clients!, 512);
const SESSIONS = positive("sessions", flags.sessions!, CLIENTS);
const PROCESSES = positive("processes", flags.processes!, 8);
const SECONDS = positive("seconds", flags.seconds!, 600);

type Op = "inc" | "set" | "get";

interface Session {
  cookie: string;
  /** Increments acknowledged with a 2xx. */
  acked: number;
}

const sessions: Session[] = [];
const lastSet = new Map<number, number>(); // client -> last acknowledged value
const counts = { inc: 0, set: 0, get: 0 };
const errors = new Map<string, number>();
const stale: string[] = [];
const latencies: number[] = [];
let sent = 0;

const deadline = AbortSignal.timeout(SECONDS * 1000);
const dir = await Deno.makeTempDir({ prefix: "tessera-load-" });
let cluster: Cluster | undefined;
let exitCode = 0;

function fail(kind: string): void {
  errors.set(kind, (errors.get(kind) ?? 0) + 1);
}

/** Tries a 503 ("try again": the request was not applied) a few times, as a
 * client honouring Retry-After would, after a short jittered pause. */
const TRIES_ON_503 = 4;
let retried503 = 0;

async function call(
  url: string,
  cookie?: string,
): Promise<{ status: number; body: string; setCookie: string[] } | null> {
  for (let attempt = 1;; attempt++) {
    const started = performance.now();
    try {
      const response = await fetch(url, {
        headers: cookie === undefined ? {} : { cookie },
        signal: deadline,
      });
      const body = await response.text();
      latencies.push(performance.now() - started);
      if (response.status === 503 && attempt < TRIES_ON_503) {
        retried503++;
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
        continue;
      }
      return {
        status: response.status,
        body,
        setCookie: response.headers.getSetCookie(),
      };
    } catch (error) {
      fail(deadline.aborted ? "deadline" : `network: ${(error as Error).name}`);
      return null;
    }
  }
}

async function client(id: number, urls: string[]): Promise<void> {
  const session = sessions[id % SESSIONS]!;
  let seq = 0;
  while (sent < REQUESTS && !deadline.aborted) {
    sent++;
    const url = urls[Math.floor(Math.random() * urls.length)]!;
    const roll = Math.random();
    const op: Op = roll < 0.4 ? "inc" : roll < 0.7 ? "set" : "get";
    counts[op]++;
    if (op === "inc") {
      const answer = await call(`${url}/inc`, session.cookie);
      if (answer === null) continue;
      if (answer.status >= 200 && answer.status < 300) session.acked++;
      else fail(`inc ${answer.status}`);
    } else if (op === "set") {
      const value = ++seq;
      const answer = await call(
        `${url}/set?k=c${id}&v=${value}`,
        session.cookie,
      );
      if (answer === null) continue;
      if (answer.status >= 200 && answer.status < 300) {
        lastSet.set(id, value);
      } else fail(`set ${answer.status}`);
    } else {
      // Everything acknowledged before this read started must be visible.
      const floor = session.acked;
      const mine = lastSet.get(id);
      const answer = await call(`${url}/get`, session.cookie);
      if (answer === null) continue;
      if (answer.status !== 200) {
        fail(`get ${answer.status}`);
        continue;
      }
      const values = JSON.parse(answer.body) as Record<string, unknown>;
      const n = (values.n as number | undefined) ?? 0;
      if (n < floor) stale.push(`client ${id}: n ${n} < acknowledged ${floor}`);
      if (mine !== undefined && values[`c${id}`] !== String(mine)) {
        stale.push(`client ${id}: c${id} ${values[`c${id}`]} != ${mine}`);
      }
    }
  }
}

try {
  cluster = await startCluster(PROCESSES, `${dir}/sessions.db`);
  const { urls } = cluster;
  for (let s = 0; s < SESSIONS; s++) {
    const answer = await call(`${urls[s % urls.length]}/inc`);
    const cookie = answer?.setCookie[0]?.split(";")[0];
    if (answer?.status !== 200 || cookie === undefined) {
      throw new Error(`could not create session ${s}: ${answer?.status}`);
    }
    sessions.push({ cookie, acked: 1 });
  }
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, (_, id) => client(id, urls)),
  );
  const seconds = (performance.now() - started) / 1000;

  // Compare what the store holds with what was acknowledged.
  let lostIncrements = 0;
  let phantomIncrements = 0;
  let lostSets = 0;
  for (const [s, session] of sessions.entries()) {
    const answer = await call(`${urls[0]}/get`, session.cookie);
    if (answer?.status !== 200) throw new Error(`final read of session ${s}`);
    const values = JSON.parse(answer.body) as Record<string, unknown>;
    const n = (values.n as number | undefined) ?? 0;
    lostIncrements += Math.max(0, session.acked - n);
    phantomIncrements += Math.max(0, n - session.acked);
    for (let id = s; id < CLIENTS; id += SESSIONS) {
      const mine = lastSet.get(id);
      if (mine !== undefined && values[`c${id}`] !== String(mine)) lostSets++;
    }
  }
  const stats = await cluster.stats();
  const conflicts = stats.reduce((n, s) => n + s.conflicts, 0);
  const commits = stats.reduce((n, s) => n + s.commits, 0);
  const serverFailures: Record<string, number> = {};
  for (const s of stats) {
    for (const [k, v] of Object.entries(s.failures)) {
      serverFailures[k] = (serverFailures[k] ?? 0) + v;
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
      ?.toFixed(1);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const report = {
    processes: PROCESSES,
    clients: CLIENTS,
    sessions: SESSIONS,
    requests: counts.inc + counts.set + counts.get,
    increments: counts.inc,
    writes: counts.set,
    reads: counts.get,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Math.round(
      (counts.inc + counts.set + counts.get) / seconds,
    ),
    p50ms: Number(pct(0.5)),
    p99ms: Number(pct(0.99)),
    errors: errorCount,
    retriedAfter503: retried503,
    errorKinds: Object.fromEntries(errors),
    serverFailures,
    commits,
    conflictsRetried: conflicts,
    lostUpdates: lostIncrements + lostSets,
    lostIncrements,
    lostSets,
    phantomIncrements,
    staleReads: stale.length,
  };
  if (flags.json) console.log(JSON.stringify(report));
  else {
    console.log(
      `load: ${report.requests} requests (${counts.inc} increments, ${counts.set} writes, ${counts.get} reads)` +
        ` from ${CLIENTS} clients on ${SESSIONS} sessions, ${PROCESSES} server process(es)` +
        ` in ${report.seconds} s (${report.requestsPerSecond} req/s, p50 ${report.p50ms} ms, p99 ${report.p99ms} ms)`,
    );
    console.log(
      `  errors ${errorCount} ${JSON.stringify(report.errorKinds)}, ` +
        `503s retried by clients ${retried503}, ` +
        `server-side failures ${JSON.stringify(serverFailures)}; ` +
        `commits ${commits}, conflicts retried ${conflicts}`,
    );
    console.log(
      `  lost updates ${report.lostUpdates} (increments ${lostIncrements}, writes ${lostSets}); ` +
        `unacknowledged increments applied ${phantomIncrements}; stale reads ${stale.length}`,
    );
    for (const line of stale.slice(0, 5)) console.log(`  stale: ${line}`);
  }
  if (
    report.lostUpdates > 0 || phantomIncrements > 0 || stale.length > 0 ||
    errorCount > 0 || deadline.aborted
  ) {
    console.error("load: FAILED");
    exitCode = 1;
  }
} catch (error) {
  console.error("load: FAILED:", error);
  exitCode = 1;
} finally {
  await cluster?.close();
  await Deno.remove(dir, { recursive: true });
}
Deno.exit(exitCode);
