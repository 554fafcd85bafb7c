/**
 * The HTTP load benchmark: `deno task bench:http`.
 *
 * Starts each server of bench/http_server.ts in turn on 127.0.0.1 (Deno rows,
 * then the hono-sessions peer, then Bun rows), loads it with autocannon
 * (bench/_load.mjs, in Node) for a bounded time, kills it, and writes the
 * table of req/s, p50/p99 latency, server CPU per request and every ratio of
 * issue 6 to bench/RESULTS.md. Then measures memoryStore's bytes per session
 * (bench/memory.ts).
 *
 * Fairness: every row answers with the same handler body; the raw-KV
 * baselines do exactly the KV operations a session needs (one `get` + JSON
 * decode for a read; plus one `atomic().check().set(…, { expireIn })` for a
 * write) on tessera's own keys and records; the cookies of 256 sessions are
 * spread over the connections, each request taking its connection's next
 * cookie, so no two connections share a session (except in the hot row).
 *
 * On Linux with `taskset` and two or more cores, the server is pinned to CPU 0
 * and the load generator to CPU 1, so each row's server has exactly one core.
 *
 * The machine is shared (other processes may run), so every row is measured
 * `--repeat` times, rounds interleaved, and the best round is kept: the
 * highest req/s and the lowest CPU per request.
 *
 * Options: `--seconds=3` measured per row, `--warmup=1`, `--repeat=2`,
 * `--connections=32`, `--pipelining=8` (Deno rows; Bun rows use 1),
 * `--only=id,id` (row ids below and in bench/redis.ts, `memory`, `redis-memory`), `--no-bun`,
 * `--out=bench/RESULTS.md` (`--out=-`: print only), `--profile=DIR` (Deno
 * servers write a V8 CPU profile there).
 *
 * @module
 */
import {
  isPostgresMode,
  POOL_SIZE,
  POSTGRES_BASELINE,
  POSTGRES_ROWS,
  POSTGRES_TARGETS,
  postgresTarget,
  stopPostgres,
} from "./postgres.ts";
import {
  measureRedisMemory,
  REDIS_BASELINE,
  REDIS_ROWS,
  REDIS_TARGETS,
  redisMemoryLine,
  redisUrl,
  stopRedis,
} from "./redis.ts";

const OPTIONS = {
  seconds: "3",
  warmup: "1",
  repeat: "2",
  connections: "32",
  pipelining: "8",
  only: "",
  out: "bench/RESULTS.md",
  profile: "",
  bun: "yes",
};
const args = { ...OPTIONS };
for (const arg of Deno.args) {
  const match = /^--(no-)?([a-z]+)(?:=(.*))?$/.exec(arg);
  const name = match?.[2] as keyof typeof OPTIONS | undefined;
  if (match === null || name === undefined || !(name in OPTIONS)) {
    throw new TypeError(
      `unknown argument ${arg}; options: ${
        Object.keys(OPTIONS).map((o) => `--${o}`).join(" ")
      } --no-bun`,
    );
  }
  args[name] = match[1] ? "" : match[3] ?? "yes";
}

const SECONDS = bounded("seconds", 1, 60);
const WARMUP = bounded("warmup", 0, 30);
const CONNECTIONS = bounded("connections", 1, 256);
const PIPELINING = bounded("pipelining", 1, 8);
const REPEAT = bounded("repeat", 1, 10);
const SESSIONS = 256;
const root = new URL("..", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);

function bounded(name: keyof typeof OPTIONS, min: number, max: number): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

type Runtime = "deno" | "bun";

interface Row {
  id: string;
  label: string;
  runtime: Runtime;
  mode: string;
  /** Connections (default CONNECTIONS). */
  connections?: number;
  /** Requests in flight per connection (default PIPELINING). */
  pipelining?: number;
}

/** Bun 1.4 drops or stalls HTTP/1.1 requests pipelined behind an async
 * handler (oven-sh/bun#38128), so Bun rows send one request at a time. */
const BUN = { runtime: "bun", pipelining: 1 } as const;

const ROWS: Row[] = [
  { id: "bare", label: "bare Deno.serve", runtime: "deno", mode: "bare" },
  {
    id: "raw-read",
    label: "raw KV read (get + JSON decode)",
    runtime: "deno",
    mode: "raw-read",
  },
  {
    id: "raw-cas",
    label: "raw KV write (get + check/set CAS)",
    runtime: "deno",
    mode: "raw-cas",
  },
  {
    id: "anon",
    label: "tessera anonymous (no cookie)",
    runtime: "deno",
    mode: "anon-kv",
  },
  {
    id: "read-kv",
    label: "tessera read, KV file",
    runtime: "deno",
    mode: "read-kv",
  },
  {
    id: "write-kv",
    label: "tessera write, KV file",
    runtime: "deno",
    mode: "write-kv",
  },
  {
    id: "read-memory",
    label: "tessera read, memoryStore",
    runtime: "deno",
    mode: "read-memory",
  },
  {
    id: "write-memory",
    label: "tessera write, memoryStore",
    runtime: "deno",
    mode: "write-memory",
  },
  {
    id: "hot",
    label: "tessera hot session (32 clients, 1 session, KV)",
    runtime: "deno",
    mode: "hot-kv",
    connections: 32,
  },
  {
    id: "hono-bare",
    label: "bare Hono (Deno)",
    runtime: "deno",
    mode: "hono-bare",
  },
  {
    id: "hono-sessions",
    label: "hono-sessions MemoryStore, counter",
    runtime: "deno",
    mode: "hono-sessions",
  },
  {
    id: "hono-sessions-iron",
    label: "hono-sessions MemoryStore + encryptionKey, counter",
    runtime: "deno",
    mode: "hono-sessions-iron",
  },
  { id: "bun-bare", label: "bare Bun.serve", ...BUN, mode: "bare" },
  {
    id: "bun-raw-read",
    label: "Bun raw @deno/kv read",
    ...BUN,
    mode: "raw-read",
  },
  {
    id: "bun-raw-cas",
    label: "Bun raw @deno/kv write (CAS)",
    ...BUN,
    mode: "raw-cas",
  },
  {
    id: "bun-anon",
    label: "Bun tessera anonymous",
    ...BUN,
    mode: "anon-kv",
  },
  {
    id: "bun-read-kv",
    label: "Bun tessera read, @deno/kv file",
    ...BUN,
    mode: "read-kv",
  },
  {
    id: "bun-write-kv",
    label: "Bun tessera write, @deno/kv file",
    ...BUN,
    mode: "write-kv",
  },
  ...REDIS_ROWS,
  ...POSTGRES_ROWS,
];

interface Load {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Server CPU seconds during the measured part (Linux), else null. */
  cpu: number | null;
}

interface Result {
  row: Row;
  load: Load;
  /** Server CPU time (all threads) during the measured run, in seconds. */
  cpu: number | undefined;
  hot?: {
    commits: number;
    conflicts: number;
    acknowledged: number;
    /** Saves that gave up (a 5xx, nothing stored), seen by the server. */
    refused: number;
    visits: number;
  };
}

// ---- the machine ----

const hasTaskset = Deno.build.os === "linux" &&
  navigator.hardwareConcurrency >= 2 && await runs(["taskset", "-V"]);
const bunPath = await findBun();
const nodePath = "node";

async function runs(cmd: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd[0]!, {
      args: cmd.slice(1),
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function output(cmd: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd[0]!, {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

async function findBun(): Promise<string | undefined> {
  const local = `${rootPath}node_modules/.bin/bun`;
  if (await runs([local, "--version"])) return local;
  if (await runs(["bun", "--version"])) return "bun";
  return undefined;
}

function pinned(cpu: number, cmd: string[]): string[] {
  return hasTaskset ? ["taskset", "-c", String(cpu), ...cmd] : cmd;
}

// ---- one row ----

let running: Deno.ChildProcess | undefined;
Deno.addSignalListener("SIGINT", () => {
  try {
    running?.kill("SIGKILL");
  } catch { /* already gone */ }
  Deno.exit(130);
});

async function startServer(
  row: Row,
  kvFile: string,
): Promise<
  { child: Deno.ChildProcess; port: number; cookies: string[] }
> {
  const script = `${rootPath}bench/http_server.ts`;
  const cmd = row.runtime === "deno"
    ? [
      Deno.execPath(),
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      ...(args.profile
        ? [
          "--cpu-prof",
          "--cpu-prof-interval=100",
          `--cpu-prof-dir=${args.profile}`,
          `--cpu-prof-name=${row.id}.cpuprofile`,
        ]
        : []),
      script,
      row.mode,
      kvFile,
      String(SESSIONS),
    ]
    : [bunPath!, script, row.mode, kvFile, String(SESSIONS)];
  const [bin, ...rest] = pinned(0, cmd);
  const child = new Deno.Command(bin!, {
    args: rest,
    cwd: rootPath,
    stdout: "piped",
    stderr: "inherit",
    env: args.profile ? { TESSERA_BENCH_PROFILE: "1" } : {},
  }).spawn();
  running = child;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 30_000);
  try {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) {
        throw new Error(`${row.id}: the server exited before listening`);
      }
      buffered += value;
    }
  } finally {
    clearTimeout(deadline);
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  const ready = JSON.parse(buffered.slice(0, buffered.indexOf("\n")));
  return { child, port: ready.port, cookies: ready.cookies };
}

async function stopServer(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 10_000);
  await child.status;
  clearTimeout(timer);
  running = undefined;
}

async function load(
  row: Row,
  server: { port: number; cookies: string[]; child: Deno.ChildProcess },
  dir: string,
): Promise<Load> {
  const configFile = `${dir}/load.json`;
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      url: `http://127.0.0.1:${server.port}/`,
      connections: row.connections ?? CONNECTIONS,
      pipelining: row.pipelining ?? PIPELINING,
      warmup: WARMUP,
      seconds: SECONDS,
      pid: Deno.build.os === "linux" ? server.child.pid : undefined,
      cookies: server.cookies,
    }),
  );
  const [bin, ...rest] = pinned(1, [
    nodePath,
    `${rootPath}bench/_load.mjs`,
    configFile,
  ]);
  const out = await new Deno.Command(bin!, {
    args: rest,
    cwd: rootPath,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`load generator failed: ${text}`);
  return JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
}

async function measure(row: Row): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "tessera-bench-" });
  try {
    const server = await startServer(
      row,
      isPostgresMode(row.mode)
        ? await postgresTarget()
        : row.mode.startsWith("redis-")
        ? await redisUrl()
        : `${dir}/sessions.db`,
    );
    try {
      const result = await load(row, server, dir);
      const cpu = result.cpu ?? undefined;
      let hot: Result["hot"];
      if (row.mode === "hot-kv") {
        const res = await fetch(`http://127.0.0.1:${server.port}/__stats`);
        hot = await res.json();
      }
      return { row, load: result, cpu, hot };
    } finally {
      await stopServer(server.child);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---- the run ----

const only = args.only ? new Set(args.only.split(",")) : undefined;
const rows = ROWS.filter((row) =>
  (only === undefined || only.has(row.id)) &&
  (row.runtime === "deno" || (args.bun && bunPath !== undefined))
);
if (!args.bun || bunPath === undefined) {
  console.error(
    bunPath === undefined
      ? "bun not found: Bun rows skipped"
      : "Bun rows skipped",
  );
}

const started = Date.now();
const loadBefore = Deno.loadavg();
const rounds = new Map<string, Result[]>();
try {
  for (let round = 1; round <= REPEAT; round++) {
    for (const row of rows) {
      const result = await measure(row);
      const list = rounds.get(row.id) ?? [];
      list.push(result);
      rounds.set(row.id, list);
      const hot = result.hot
        ? `  ${result.hot.acknowledged} acknowledged, visits ${result.hot.visits}, ${result.hot.conflicts} conflicts`
        : "";
      console.error(
        `${round}/${REPEAT} ${row.id.padEnd(19)}${
          rps(result).toFixed(0).padStart(7)
        } req/s  p50 ${result.load.p50.toFixed(2)} ms  p99 ${
          result.load.p99.toFixed(2)
        } ms  ${cpuPerRequest(result)?.toFixed(1) ?? "?"} µs/req${
          result.load.non2xx + result.load.errors > 0
            ? `  non-2xx ${result.load.non2xx} errors ${result.load.errors}`
            : ""
        }${hot}`,
      );
    }
  }
} finally {
  await stopRedis(); // also when a row failed
  await stopPostgres();
}
const loadAfter = Deno.loadavg();

/** A row over its rounds: best throughput, lowest CPU per request. */
interface Summary {
  row: Row;
  /** The round with the highest req/s (its latencies are reported). */
  best: Result;
  rps: number;
  cpuPerRequest: number | undefined;
  cpuShare: number | undefined;
  failures: number;
  hot?: {
    acknowledged: number;
    refused: number;
    lost: number;
    phantom: number;
    conflicts: number;
    commits: number;
  };
}

const results = new Map<string, Summary>();
for (const [id, list] of rounds) {
  const best = list.reduce((a, b) => rps(b) > rps(a) ? b : a);
  const cpus = list.map(cpuPerRequest).filter((c) => c !== undefined);
  let hot: Summary["hot"];
  if (list.every((r) => r.hot !== undefined)) {
    hot = {
      acknowledged: 0,
      refused: 0,
      lost: 0,
      phantom: 0,
      conflicts: 0,
      commits: 0,
    };
    for (const r of list) {
      // The priming request stored 1; every 2xx response said "saved", and
      // a refused save (5xx) must have stored nothing.
      const missing = 1 + r.hot!.acknowledged - r.hot!.visits;
      if (missing > 0) hot.lost += missing;
      else hot.phantom -= missing;
      hot.acknowledged += r.hot!.acknowledged;
      hot.refused += r.hot!.refused;
      hot.conflicts += r.hot!.conflicts;
      hot.commits += r.hot!.commits;
    }
  }
  results.set(id, {
    row: best.row,
    best,
    rps: rps(best),
    cpuPerRequest: cpus.length > 0 ? Math.min(...cpus) : undefined,
    cpuShare: cpuShare(best),
    failures: list.reduce((n, r) => n + r.load.non2xx + r.load.errors, 0),
    hot,
  });
}

const memory = only === undefined || only.has("memory")
  ? await measureMemory()
  : undefined;
const redisMemory = only === undefined || only.has("redis-memory")
  ? await measureRedisMemory(rootPath)
  : undefined;

function rps(result: Result): number {
  return result.load.ok / result.load.seconds;
}

function cpuPerRequest(result: Result): number | undefined {
  return result.cpu === undefined || result.load.requests === 0
    ? undefined
    : result.cpu * 1e6 / result.load.requests;
}

function cpuShare(result: Result): number | undefined {
  return result.cpu === undefined
    ? undefined
    : result.cpu / result.load.seconds;
}

async function measureMemory(): Promise<
  | {
    perSession: number;
    recordBytes: number;
    dataBytes: number;
    sessions: number;
  }
  | undefined
> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", `${rootPath}bench/memory.ts`],
    cwd: rootPath,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) return undefined;
  const text = new TextDecoder().decode(out.stdout).trim();
  return JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
}

// ---- the report ----

interface Target {
  name: string;
  row: string;
  baseline: string;
  target: number;
}

const TARGETS: Target[] = [
  {
    name: "anonymous vs bare Deno.serve",
    row: "anon",
    baseline: "bare",
    target: 0.95,
  },
  {
    name: "read on KV vs raw-KV read",
    row: "read-kv",
    baseline: "raw-read",
    target: 0.90,
  },
  {
    name: "write on KV vs raw-KV CAS",
    row: "write-kv",
    baseline: "raw-cas",
    target: 0.85,
  },
  {
    name: "memoryStore read vs bare Deno.serve",
    row: "read-memory",
    baseline: "bare",
    target: 0.60,
  },
  {
    name: "memoryStore write vs bare Deno.serve",
    row: "write-memory",
    baseline: "bare",
    target: 0.50,
  },
  {
    name: "counter, memoryStore vs hono-sessions",
    row: "write-memory",
    baseline: "hono-sessions",
    target: 10,
  },
  {
    name: "counter, memoryStore vs hono-sessions + encryptionKey",
    row: "write-memory",
    baseline: "hono-sessions-iron",
    target: 10,
  },
  {
    name: "counter, KV file vs hono-sessions (memory)",
    row: "write-kv",
    baseline: "hono-sessions",
    target: 10,
  },
  {
    name: "Bun: anonymous vs bare Bun.serve",
    row: "bun-anon",
    baseline: "bun-bare",
    target: 0.95,
  },
  {
    name: "Bun: read vs raw @deno/kv read",
    row: "bun-read-kv",
    baseline: "bun-raw-read",
    target: 0.90,
  },
  {
    name: "Bun: write vs raw @deno/kv CAS",
    row: "bun-write-kv",
    baseline: "bun-raw-cas",
    target: 0.85,
  },
  ...REDIS_TARGETS,
  ...POSTGRES_TARGETS,
];

/** The ratio a row's baseline is compared by in the table. */
const BASELINE: Record<string, string> = {
  "raw-read": "bare",
  "raw-cas": "bare",
  anon: "bare",
  "read-kv": "raw-read",
  "write-kv": "raw-cas",
  "read-memory": "bare",
  "write-memory": "bare",
  hot: "write-kv",
  "hono-bare": "bare",
  "hono-sessions": "hono-bare",
  "hono-sessions-iron": "hono-bare",
  "bun-raw-read": "bun-bare",
  "bun-raw-cas": "bun-bare",
  "bun-anon": "bun-bare",
  "bun-read-kv": "bun-raw-read",
  "bun-write-kv": "bun-raw-cas",
  ...REDIS_BASELINE,
  ...POSTGRES_BASELINE,
};

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);
}

function ratios(
  id: string,
  baseline: string,
): { rps?: number; cpu?: number } {
  const a = results.get(id);
  const b = results.get(baseline);
  if (a === undefined || b === undefined) return {};
  const ca = a.cpuPerRequest;
  const cb = b.cpuPerRequest;
  return {
    rps: a.rps / b.rps,
    cpu: ca === undefined || cb === undefined ? undefined : cb / ca,
  };
}

const versions = await collectVersions();

async function collectVersions(): Promise<Record<string, string>> {
  const pkg = async (name: string) => {
    try {
      return JSON.parse(
        await Deno.readTextFile(`${rootPath}node_modules/${name}/package.json`),
      ).version;
    } catch {
      return "?";
    }
  };
  // Node names the CPU on every OS (Deno needs --allow-all for /proc).
  const model = (await output([
    nodePath,
    "-p",
    "require('node:os').cpus()[0]?.model ?? ''",
  ])) || Deno.build.arch;
  const tessera = JSON.parse(await Deno.readTextFile(`${rootPath}deno.json`))
    .version;
  return {
    machine: `${model}, ${navigator.hardwareConcurrency} cores, ${
      Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
    } GiB, ${Deno.build.os} ${Deno.osRelease()}`,
    tessera: `${tessera} (${
      (await output(["git", "-C", rootPath, "rev-parse", "--short", "HEAD"])) ||
      "?"
    }${
      (await output([
          "git",
          "-C",
          rootPath,
          "status",
          "--porcelain",
          "src",
          "mod.ts",
        ]))
        ? ", with local changes"
        : ""
    })`,
    deno: Deno.version.deno,
    bun: bunPath ? await output([bunPath, "--version"]) : "–",
    node: await output([nodePath, "--version"]),
    autocannon: await pkg("autocannon"),
    hono: await pkg("hono"),
    "hono-sessions": await pkg("hono-sessions"),
    "@deno/kv": await pkg("@deno/kv"),
  };
}

const lines: string[] = [];
lines.push("# tessera benchmark results", "");
lines.push(
  `One run of \`deno task bench:http\` on ${
    new Date().toISOString().slice(0, 10)
  } (${
    ((Date.now() - started) / 1000).toFixed(0)
  } s). Reproduce: \`npm ci && deno task bench:http\`.`,
  "",
);
for (const [name, value] of Object.entries(versions)) {
  lines.push(`- ${name}: ${value}`);
}
lines.push(
  `- load average (1 min) before / after: ${loadBefore[0]!.toFixed(2)} / ${
    loadAfter[0]!.toFixed(2)
  } (anything above ~1 is other work sharing the two cores)`,
  "",
  `Each row: a fresh server on 127.0.0.1, ${
    hasTaskset
      ? "pinned to CPU 0 (the load generator on CPU 1)"
      : "not pinned (no taskset)"
  }; ${WARMUP} s warm-up, then ${SECONDS} s measured with autocannon, ${CONNECTIONS} connections with ${PIPELINING} pipelined requests each (Bun rows: 1, see below); ${SESSIONS} sessions, each request taking its connection's next cookie (connections never share one, except in the hot row). ${
    REPEAT > 1
      ? `Best of ${REPEAT} interleaved rounds (highest req/s, lowest CPU per request). `
      : ""
  }Same handler body everywhere: \`new Response(\`visit \${n}\`)\`.`,
  "",
  "*CPU µs/req* is the server process's user + system time (all its threads) per request answered: what the row costs, whatever the load generator managed. *CPU %* is the server's use of its one core: near 100 % means the server set the pace; well under means the generator (or another process on the machine) did. Latency is from send to the last byte, including the wait behind pipelined requests.",
  "",
  "| Row | req/s | p50 ms | p99 ms | CPU µs/req | CPU % | failed | compared with | ratio req/s | ratio CPU |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
);
for (const [id, summary] of results) {
  const baseline = BASELINE[id];
  const r = baseline ? ratios(id, baseline) : {};
  lines.push(
    `| ${summary.row.label} | ${fmt(summary.rps)} | ${
      fmt(summary.best.load.p50, 2)
    } | ${fmt(summary.best.load.p99, 2)} | ${fmt(summary.cpuPerRequest, 1)} | ${
      fmt((summary.cpuShare ?? NaN) * 100)
    } | ${summary.failures} | ${
      baseline && results.has(baseline) ? results.get(baseline)!.row.label : ""
    } | ${fmt(r.rps, 2)} | ${fmt(r.cpu, 2)} |`,
  );
}
lines.push(
  "",
  "*ratio req/s*: this row's throughput over the compared row's. *ratio CPU*: the compared row's CPU per request over this row's, the throughput ratio the two servers would show on a core each with an infinitely fast client. *failed*: non-2xx responses and connection errors over all rounds.",
  "",
  `Postgres rows: a PostgreSQL 15 started for the run on 127.0.0.1 (not pinned, sharing the machine), a pg pool of ${POOL_SIZE} connections in the server; the raw rows issue postgresStore's own SELECT and checked UPDATE by hand on the same pool and rows (bench/postgres.ts).`,
  "",
  "Bun rows send one request per connection at a time: Bun 1.4 closes or stalls a connection when an HTTP/1.1 request is pipelined behind an async handler (oven-sh/bun#38128), so on Bun the load generator, not the server, may set the pace: read the CPU column there.",
  "",
  "## Targets (issue 6)",
  "",
  "| Target | ratio req/s | ratio CPU | target | met |",
  "| --- | ---: | ---: | ---: | :---: |",
);
for (const t of TARGETS) {
  if (!results.has(t.row) || !results.has(t.baseline)) continue;
  const r = ratios(t.row, t.baseline);
  const worst = Math.min(r.rps ?? Infinity, r.cpu ?? Infinity);
  lines.push(
    `| ${t.name} | ${fmt(r.rps, 2)} | ${fmt(r.cpu, 2)} | ≥ ${t.target} | ${
      worst >= t.target ? "yes" : "**no**"
    } |`,
  );
}
const hot = results.get("hot");
if (hot?.hot) {
  lines.push(
    `| hot session, 32 clients on one session: every increment counted | ${
      fmt(hot.rps)
    } req/s | ${hot.hot.acknowledged} increments acknowledged (${REPEAT} runs), ${hot.hot.conflicts} of ${hot.hot.commits} commits conflicted and were retried, ${hot.hot.refused} saves gave up after maxAttempts (5xx, nothing stored) | lost = 0 | ${
      hot.hot.lost === 0 && hot.hot.phantom === 0
        ? "yes (0 lost, 0 stored without acknowledgement)"
        : `**no** (${hot.hot.lost} lost, ${hot.hot.phantom} stored although refused)`
    } |`,
  );
}
lines.push("", "*met*: the lower of the two ratios reaches the target.");
if (memory) {
  lines.push(
    "",
    "## Memory",
    "",
    `memoryStore holding ${
      memory.sessions.toLocaleString("en")
    } sessions of ${memory.dataBytes} bytes of JSON data (${memory.recordBytes}-byte records): **${
      fmt(memory.perSession)
    } bytes per session** (V8 heap + external memory after GC, divided by the sessions; \`deno run --v8-flags=--expose-gc bench/memory.ts\`).`,
  );
}
if (redisMemory) lines.push("", redisMemoryLine(redisMemory));
const report = lines.join("\n") + "\n";
if (args.out === "-") console.log(report);
else {
  const out = args.out.startsWith("/") ? args.out : `${rootPath}${args.out}`;
  await Deno.writeTextFile(out, report);
  console.error(`wrote ${args.out}`);
}
