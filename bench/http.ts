/**
 * The HTTP load benchmark: `deno task bench:http`.
 *
 * Starts each row's server (bench/_rows.ts lists them: Deno rows, the peers
 * hono-sessions on Deno and express-session on Node, the growth rows on
 * seeded KV files, then Bun rows, then any plug-in rows) on 127.0.0.1, loads
 * it with autocannon (bench/_load.mjs, in Node) for a bounded time, kills
 * it, and writes bench/RESULTS.md and its charts (bench/charts/*.svg): req/s,
 * latency, server CPU per request, and each tessera row's ratio to its
 * floor (bench/_floor.ts: a stand-alone handler doing only what the
 * contract requires) and to the bare server or raw store, all from the same
 * interleaved rounds. Then the growth of listSessions/revokeUserSessions
 * (bench/accounts_growth.ts) and memoryStore's bytes per session
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
 * Each row's first `--warmup` seconds are not measured (RESULTS.md reports
 * their CPU apart), nor, on slow rows, the seconds until the server has
 * answered `--warmup-requests` (at most `--warmup-max` s in all). The JIT
 * compilers' threads share the server's pinned core, and tessera has more
 * code to compile than its floor: after a 1 s warm-up, JavaScriptCore's
 * JITWorker threads still took 10-13 µs of each tessera Bun KV read's CPU in
 * the 2 s measured (1-2 µs of its floor's), and the row measured 0.67 × its
 * floor; after 4 s they were near idle, and it measured 0.93 (3 s: 0.87).
 * Why a count as well, with its figures: the Warm-up section this writes.
 *
 * The machine may be shared, so every row is measured `--repeat` times,
 * rounds interleaved (every row once, then every row again), and each row
 * reports its median round: the median req/s and the median CPU per request.
 * Within a round, a row runs beside the rows it is compared with (its floor
 * and raw store; bench/_rows.ts `comparisonGroups`): their servers are up at
 * once, and the measured seconds are taken in `--slices` slices in turn.
 * Run one after another, a slow spell of the machine lasting one row's ten
 * seconds moved that row alone: on a Deno KV read, the floor cost 125
 * µs/req and tessera 78 in one round, 70 and 86 in another (98cb92f's run).
 *
 * Options: `--seconds=2` measured per row, `--slices=4`, `--warmup=4`,
 * `--warmup-requests=20000`, `--warmup-max=15`, `--repeat=5`,
 * `--connections=32`, `--pipelining=8` (Deno and Node rows; Bun rows use 1),
 * `--only=id,id` (row ids of bench/_rows.ts and bench/redis.ts, and
 * `memory`, `redis-memory`, `redis-scaling`, `accounts`),
 * `--no-bun`, `--no-node`, `--growth=1000,100000,1000000` (`--no-growth`:
 * none; the seeded files are kept in bench/.data/ and reused for 12 h),
 * `--out=bench/RESULTS.md` (`--out=-`: print only, no charts),
 * `--profile=DIR` (Deno and Bun servers write a V8 CPU profile there),
 * `--no-profiles` (skip the pass that profiles the rows of missed targets
 * once more, bench/_profile.ts, for RESULTS.md).
 *
 * @module
 */
import { median } from "./_median.ts";
import { jsonLine } from "./_json_line.ts";
import {
  hasTaskset,
  pinned,
  readyLine,
  runLoad,
  runs,
  stopProcess,
} from "./_server_process.ts";
import {
  type ProfiledTarget,
  profileSection,
  readProfile,
  type RowProfile,
} from "./_profile.ts";
import { barChart, type BarGroup, lineChart } from "./_chart.ts";
import {
  type RedisScaling,
  redisScalingSection,
} from "./_redis_scaling_report.ts";
import {
  measureRedisMemory,
  REDIS_BASELINE,
  REDIS_ROWS,
  REDIS_TARGETS,
  redisMemoryLine,
  redisUrl,
  stopRedis,
} from "./redis.ts";
import {
  comparisonGroups,
  GROWTH,
  pluginModules,
  type Row,
  ROWS,
  type Service,
} from "./_rows.ts";

const OPTIONS = {
  seconds: "2",
  // A row's measured seconds are taken in this many slices, in turn with
  // the rows it is compared with (see comparisonGroups in bench/_rows.ts).
  slices: "4",
  warmup: "4",
  // The warm-up goes on, a second at a time, until the server has answered
  // this many requests (JIT compilers tier up by calls, not by time) or
  // until `warmup-max` seconds.
  "warmup-requests": "20000",
  "warmup-max": "15",
  // Five, not three: on a shared 2-core machine one row's rounds ranged
  // over a fifth or more, and a median of three still moved with that.
  repeat: "5",
  connections: "32",
  pipelining: "8",
  only: "",
  out: "bench/RESULTS.md",
  profile: "",
  bun: "yes",
  node: "yes",
  growth: GROWTH.join(","),
  profiles: "yes",
};
const args = { ...OPTIONS };
for (const arg of Deno.args) {
  const match = /^--(no-)?([a-z]+(?:-[a-z]+)*)(?:=(.*))?$/.exec(arg);
  const name = match?.[2] as keyof typeof OPTIONS | undefined;
  if (match === null || name === undefined || !(name in OPTIONS)) {
    throw new TypeError(
      `unknown argument ${arg}; options: ${
        Object.keys(OPTIONS).map((o) => `--${o}`).join(" ")
      } --no-bun --no-node --no-growth --no-profiles`,
    );
  }
  args[name] = match[1] ? "" : match[3] ?? "yes";
}

const SECONDS = bounded("seconds", 1, 60);
const WARMUP = bounded("warmup", 0, 30);
const WARMUP_REQUESTS = bounded("warmup-requests", 0, 1_000_000);
const WARMUP_MAX = bounded("warmup-max", 0, 60);
const CONNECTIONS = bounded("connections", 1, 256);
const PIPELINING = bounded("pipelining", 1, 8);
const REPEAT = bounded("repeat", 1, 10);
const SLICES = bounded("slices", 1, 20);
const SESSIONS = 256;
const root = new URL("..", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const growthSizes = args.growth === ""
  ? []
  : args.growth.split(",").map((n) => {
    const value = Number(n);
    if (!GROWTH.includes(value)) {
      throw new RangeError(
        `--growth takes sizes from ${GROWTH.join(",")}, got ${n}`,
      );
    }
    return value;
  });

function bounded(name: keyof typeof OPTIONS, min: number, max: number): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

const plugins = await pluginModules(new URL(".", import.meta.url));
const ALL_ROWS: Row[] = [
  ...ROWS,
  // bench/redis.ts (the redis branch) lists its rows and their baselines.
  ...REDIS_ROWS.map((row): Row => ({ ...row, bare: REDIS_BASELINE[row.id] })),
  ...plugins.flatMap((p) => p.module.rows),
];

interface Load {
  requests: number;
  /** Requests answered during the warm-up (not measured). */
  warmupRequests?: number;
  /** How long the warm-up lasted, in seconds. */
  warmupSeconds?: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Server CPU seconds during the measured part (Linux), else null. */
  cpu: number | null;
  /** Server CPU seconds during the warm-up (Linux), else null. */
  warmupCpu?: number | null;
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

const bunPath = await findBun();
const nodePath = "node";

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

// ---- one row ----

/** The servers running now, killed on Ctrl-C. */
const running = new Set<Deno.ChildProcess>();
/** The environment each plug-in's service gives its rows' servers. */
const serviceEnv = new Map<string, Record<string, string>>();
const services: Service[] = [];
Deno.addSignalListener("SIGINT", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  Promise.allSettled(services.map((s) => s.stop())).finally(() =>
    Deno.exit(130)
  );
});

async function startServer(
  row: Row,
  kvFile: string,
  profileDir = args.profile,
): Promise<
  { child: Deno.ChildProcess; port: number; cookies: string[] }
> {
  const script = `${rootPath}bench/http_server.ts`;
  const flags = [
    ...(row.seeded !== undefined ? ["--seeded"] : []),
    ...(row.module !== undefined ? [`--module=${row.module}`] : []),
  ];
  // Deno and Bun take the same V8 profiler flags.
  const profileFlags = profileDir
    ? [
      "--cpu-prof",
      "--cpu-prof-interval=100",
      `--cpu-prof-dir=${profileDir}`,
      `--cpu-prof-name=${row.id}.cpuprofile`,
    ]
    : [];
  const cmd = row.runtime === "node"
    ? [
      nodePath,
      `${rootPath}bench/_express_server.mjs`,
      row.mode,
      String(SESSIONS),
    ]
    : [
      ...(row.runtime === "deno"
        ? [
          Deno.execPath(),
          "run",
          "--allow-net=127.0.0.1",
          "--allow-read",
          "--allow-write",
          "--allow-env",
        ]
        : [bunPath!]),
      ...profileFlags,
      script,
      row.mode,
      kvFile,
      String(SESSIONS),
      ...flags,
    ];
  const [bin, ...rest] = pinned(0, cmd);
  const child = new Deno.Command(bin!, {
    args: rest,
    cwd: rootPath,
    stdout: "piped",
    stderr: "inherit",
    env: {
      ...(profileDir ? { TESSERA_BENCH_PROFILE: "1" } : {}),
      ...(row.module !== undefined ? serviceEnv.get(row.module) : {}),
    },
  }).spawn();
  running.add(child);
  return { child, ...await readyLine(child, row.id) };
}

async function stopServer(child: Deno.ChildProcess): Promise<void> {
  await stopProcess(child);
  running.delete(child);
}

/** A started server of a row. */
interface Started {
  row: Row;
  port: number;
  cookies: string[];
  child: Deno.ChildProcess;
}

/** Warms up each server in turn, then measures them in interleaved
 * slices (bench/_load.mjs); one figure per server, in order. */
async function load(servers: Started[], dir: string): Promise<Load[]> {
  return await runLoad<Load[]>(
    {
      targets: servers.map(({ row, port, child, cookies }) => ({
        url: `http://127.0.0.1:${port}/`,
        connections: row.connections ?? CONNECTIONS,
        pipelining: row.pipelining ?? PIPELINING,
        pid: Deno.build.os === "linux" ? child.pid : undefined,
        cookies,
      })),
      warmup: WARMUP,
      warmupAtLeast: WARMUP_REQUESTS,
      warmupAtMost: WARMUP_MAX,
      seconds: SECONDS,
      slices: SLICES,
    },
    `${dir}/load.json`,
    rootPath,
  );
}

/** Whether a row's handler saves the visit counter on every request. */
function writes(row: Row): boolean {
  return /write|cas|hot|hono-sessions|express-session/.test(row.mode);
}

/**
 * Sends the row's first cookie twice before the load and checks the
 * answers: a row that does not find its session (a wrong key, a record its
 * check refuses) answers at a speed that means nothing, so the run stops.
 * A session row must count from its primed visit; a write row must count on.
 */
async function probe(
  row: Row,
  server: { port: number; cookies: string[] },
): Promise<void> {
  const cookie = server.cookies[0];
  const visits: number[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`http://127.0.0.1:${server.port}/`, {
      headers: cookie === undefined ? {} : { cookie },
    });
    const body = await res.text();
    const match = /^visit (\d+)$/.exec(body);
    if (!res.ok || match === null) {
      throw new Error(
        `${row.id}: the probe got ${res.status} ${JSON.stringify(body)}`,
      );
    }
    visits.push(Number(match[1]));
  }
  const [first, second] = visits as [number, number];
  const found = cookie === undefined
    ? first === 0 && second === 0
    : writes(row)
    ? first >= 2 && second === first + 1
    : first >= 1 && second === first;
  if (!found) {
    throw new Error(
      `${row.id}: the probe counted ${first} then ${second}${
        cookie === undefined ? " without a cookie" : " on a primed session"
      }: the row does not find (or keep) its session`,
    );
  }
}

/**
 * Measures a group of rows together (bench/_rows.ts `comparisonGroups`): all
 * their servers run at once, each pinned to CPU 0 and idle but for its own
 * slices of load, so a row and the rows it is compared with see the same
 * moments of a shared machine.
 */
async function measureGroup(
  group: Row[],
  profileDir?: string,
): Promise<Result[]> {
  const dir = await Deno.makeTempDir({ prefix: "tessera-bench-" });
  const servers: Started[] = [];
  try {
    // One redis-server serves the run, emptied once per group: the group's
    // servers each prime sessions of their own in it.
    const redis = group.some((row) => row.mode.startsWith("redis-"))
      ? await redisUrl()
      : undefined;
    for (const [i, row] of group.entries()) {
      const kvFile = row.mode.startsWith("redis-")
        ? redis!
        : row.seeded === undefined
        ? `${dir}/sessions-${i}.db`
        : seededFile(row.seeded);
      servers.push({ row, ...await startServer(row, kvFile, profileDir) });
      await probe(row, servers.at(-1)!);
    }
    const loads = await load(servers, dir);
    const results: Result[] = [];
    for (const [i, server] of servers.entries()) {
      const { row } = server;
      const result = loads[i]!;
      let hot: Result["hot"];
      if (row.mode === "hot-kv") {
        const res = await fetch(`http://127.0.0.1:${server.port}/__stats`);
        hot = await res.json();
      }
      results.push({ row, load: result, cpu: result.cpu ?? undefined, hot });
    }
    return results;
  } finally {
    await Promise.allSettled(servers.map((s) => stopServer(s.child)));
    await Deno.remove(dir, { recursive: true });
  }
}

/** Measures one row on its own (the profiling pass). */
async function measure(row: Row, profileDir?: string): Promise<Result> {
  return (await measureGroup([row], profileDir))[0]!;
}

// ---- the run ----

const only = args.only ? new Set(args.only.split(",")) : undefined;
const rows = ALL_ROWS.filter((row) =>
  (only === undefined || only.has(row.id)) &&
  (row.runtime !== "bun" || (args.bun && bunPath !== undefined)) &&
  (row.runtime !== "node" || args.node) &&
  (row.seeded === undefined || growthSizes.includes(row.seeded))
);
if (!args.bun || bunPath === undefined) {
  console.error(
    bunPath === undefined
      ? "bun not found: Bun rows skipped"
      : "Bun rows skipped",
  );
}

/** Where the growth rows' seeded KV file of `count` sessions is kept. */
function seededFile(count: number): string {
  return `${rootPath}bench/.data/seeded-${count}.db`;
}

const started = Date.now();
const loadBefore = Deno.loadavg();
const seeding = new Map<number, { seconds: number; reused: boolean }>();
for (const count of new Set(rows.flatMap((r) => r.seeded ?? []))) {
  await Deno.mkdir(`${rootPath}bench/.data`, { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      `${rootPath}scripts/seed_kv.ts`,
      seededFile(count),
      String(count),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`seeding ${count} sessions failed`);
  const text = new TextDecoder().decode(out.stdout).trim();
  const result = JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
  seeding.set(count, result);
  console.error(
    `seeded ${count} sessions: ${
      result.reused ? "reused" : `${result.seconds.toFixed(1)} s`
    }`,
  );
}

const rounds = new Map<string, Result[]>();
try {
  for (const { file, module } of plugins) {
    if (!module.rows.some((r) => rows.includes(r)) || !module.start) continue;
    const service = await module.start();
    if (service !== undefined) {
      services.push(service);
      serviceEnv.set(file, service.env);
    }
  }
  const groups = comparisonGroups(rows);
  for (let round = 1; round <= REPEAT; round++) {
    for (const group of groups) {
      for (const result of await measureGroup(group)) {
        const row = result.row;
        const list = rounds.get(row.id) ?? [];
        list.push(result);
        rounds.set(row.id, list);
        const hot = result.hot
          ? `  ${result.hot.acknowledged} acknowledged, visits ${result.hot.visits}, ${result.hot.conflicts} conflicts`
          : "";
        console.error(
          `${round}/${REPEAT} ${row.id.padEnd(24)}${
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
  }
} finally {
  await stopRedis(); // also when a row failed
  await Promise.allSettled(services.map((s) => s.stop()));
}
const loadAfter = Deno.loadavg();

/** A row over its rounds: the median req/s and the median CPU per request. */
interface Summary {
  row: Row;
  /** The round of the median req/s (its latencies are reported). */
  typical: Result;
  rps: number;
  cpuPerRequest: number | undefined;
  /** The median CPU per request of the rounds' warm-ups. */
  warmupCpuPerRequest: number | undefined;
  /** The median length of the rounds' warm-ups, in seconds. */
  warmupSeconds: number | undefined;
  cpuShare: number | undefined;
  /** The lowest and highest req/s of the rounds. */
  spread: [number, number];
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
  const byRps = [...list].sort((a, b) => rps(a) - rps(b));
  const typical = byRps[(byRps.length - 1) >> 1]!;
  const cpus = list.map(cpuPerRequest).filter((c) => c !== undefined);
  const warmups = list.map(warmupCpuPerRequest).filter((c) => c !== undefined);
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
    row: typical.row,
    typical,
    rps: median(list.map(rps)),
    cpuPerRequest: cpus.length > 0 ? median(cpus) : undefined,
    warmupCpuPerRequest: warmups.length > 0 ? median(warmups) : undefined,
    warmupSeconds: list.every((r) => r.load.warmupSeconds !== undefined)
      ? median(list.map((r) => r.load.warmupSeconds!))
      : undefined,
    cpuShare: cpuShare(typical),
    spread: [rps(byRps[0]!), rps(byRps[byRps.length - 1]!)],
    failures: list.reduce((n, r) => n + r.load.non2xx + r.load.errors, 0),
    hot,
  });
}

const accounts = only === undefined || only.has("accounts")
  ? await measureAccounts()
  : undefined;
const memory = only === undefined || only.has("memory")
  ? await measureMemory()
  : undefined;
const redisMemory = only === undefined || only.has("redis-memory")
  ? await measureRedisMemory(rootPath)
  : undefined;
const redisScaling = only === undefined || only.has("redis-scaling")
  ? await jsonLine([
    Deno.execPath(),
    "run",
    "-A",
    `${rootPath}bench/redis_scaling.ts`,
    String(SECONDS),
    String(REPEAT),
  ], rootPath) as RedisScaling | undefined
  : undefined;

function rps(result: Result): number {
  return result.load.ok / result.load.seconds;
}

function cpuPerRequest(result: Result): number | undefined {
  return result.cpu === undefined || result.load.requests === 0
    ? undefined
    : result.cpu * 1e6 / result.load.requests;
}

/** Server CPU per request answered during the warm-up, in µs. */
function warmupCpuPerRequest(result: Result): number | undefined {
  const { warmupCpu, warmupRequests } = result.load;
  return warmupCpu === undefined || warmupCpu === null || !warmupRequests
    ? undefined
    : warmupCpu * 1e6 / warmupRequests;
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
  return await jsonLine([
    Deno.execPath(),
    "run",
    "--v8-flags=--expose-gc",
    `${rootPath}bench/memory.ts`,
  ], rootPath) as Awaited<ReturnType<typeof measureMemory>>;
}

interface AccountsFigure {
  sessions: number;
  listMs: number;
  revokeMs: number;
}

async function measureAccounts(): Promise<
  { memory: AccountsFigure[]; kv: AccountsFigure[] } | undefined
> {
  const dir = await Deno.makeTempDir({ prefix: "tessera-accounts-" });
  try {
    return await jsonLine([
      Deno.execPath(),
      "run",
      "--allow-read",
      "--allow-write",
      `${rootPath}bench/accounts_growth.ts`,
      dir,
    ], rootPath) as Awaited<ReturnType<typeof measureAccounts>>;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---- the report ----

/** Issue 14's targets: each tessera row against its floor or raw store. */
const TARGETS: { row: string; against: string; target: number }[] = [
  ...["", "bun-"].flatMap((p) => [
    { row: `${p}anon`, against: `${p}floor-anon`, target: 0.90 },
    { row: `${p}read-memory`, against: `${p}floor-read-memory`, target: 0.90 },
    {
      row: `${p}write-memory`,
      against: `${p}floor-write-memory`,
      target: 0.90,
    },
    { row: `${p}read-kv`, against: `${p}raw-read`, target: 0.75 },
    { row: `${p}write-kv`, against: `${p}raw-cas`, target: 0.90 },
  ]),
  ...REDIS_TARGETS.map((t) => ({
    row: t.row,
    against: t.baseline,
    target: t.target,
  })),
];

/** The peers: tessera's memoryStore counter against each peer's. */
const PEERS: { row: string; peer: string }[] = [
  { row: "write-memory", peer: "hono-sessions" },
  { row: "write-memory", peer: "hono-sessions-iron" },
  { row: "write-memory", peer: "express-session" },
];

/** The README's performance table lies between these (a full run only). */
const README_START =
  "<!-- bench:http table: written by deno task bench:http -->";
const README_END = "<!-- bench:http table end -->";

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);
}

function ratios(
  id: string,
  baseline: string | undefined,
): { rps?: number; cpu?: number } {
  const a = results.get(id);
  const b = baseline === undefined ? undefined : results.get(baseline);
  if (a === undefined || b === undefined) return {};
  const ca = a.cpuPerRequest;
  const cb = b.cpuPerRequest;
  return {
    rps: a.rps / b.rps,
    cpu: ca === undefined || cb === undefined ? undefined : cb / ca,
  };
}

function label(id: string | undefined): string {
  return id === undefined ? "" : results.get(id)?.row.label ?? "";
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
    express: await pkg("express"),
    "express-session": await pkg("express-session"),
  };
}

const profiled = args.profiles ? await profileMissedTargets() : [];

/** Whether a target is met: the lower of its two ratios reaches it;
 * `undefined` when a row of it was not run. */
function met(t: (typeof TARGETS)[number]): boolean | undefined {
  const r = ratios(t.row, t.against);
  if (r.rps === undefined) return undefined;
  return Math.min(r.rps, r.cpu ?? Infinity) >= t.target;
}

/** Profiles the rows of every missed target (and their comparison rows). */
async function profileMissedTargets(): Promise<ProfiledTarget[]> {
  const missed = TARGETS.filter((t) =>
    met(t) === false && results.get(t.row)!.row.runtime !== "node"
  );
  if (missed.length === 0) return [];
  const dir = await Deno.makeTempDir({ prefix: "tessera-profiles-" });
  const profiles = new Map<string, RowProfile>();
  const profile = async (id: string): Promise<RowProfile> => {
    const known = profiles.get(id);
    if (known !== undefined) return known;
    const row = results.get(id)!.row;
    const result = await measure(row, dir);
    const found = await readProfile(
      `${dir}/${row.id}.cpuprofile`,
      result.load.requests,
      rootPath,
      SECONDS * 1e6,
    );
    profiles.set(id, found);
    console.error(
      `profiled ${id}: ${found.total.toFixed(1)} main-thread µs/req`,
    );
    return found;
  };
  try {
    const out: ProfiledTarget[] = [];
    for (const t of missed) {
      const floor = results.get(t.row)!.row.floor;
      const extraFloor = floor !== undefined && floor !== t.against &&
          results.has(floor)
        ? floor
        : undefined;
      out.push({
        label: label(t.row),
        againstLabel: label(t.against),
        row: await profile(t.row),
        against: await profile(t.against),
        ...(extraFloor === undefined ? {} : {
          floorLabel: label(extraFloor),
          floor: await profile(extraFloor),
        }),
      });
    }
    return out;
  } finally {
    await stopRedis();
    await Deno.remove(dir, { recursive: true });
  }
}

const lines: string[] = [];
const seconds = (Date.now() - started) / 1000;
lines.push("# tessera benchmark results", "");
lines.push(
  `One run of \`deno task bench:http\` on ${
    new Date().toISOString().slice(0, 10)
  } (${seconds.toFixed(0)} s). Reproduce: \`npm ci && deno task bench:http\`.`,
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
  }; ${WARMUP} s warm-up (longer, a second at a time, until the server has answered ${WARMUP_REQUESTS} requests, or for ${WARMUP_MAX} s at most; see *Warm-up* below), then ${SECONDS} s measured with autocannon, ${CONNECTIONS} connections with ${PIPELINING} pipelined requests each (Bun rows: 1, see below); ${SESSIONS} sessions, each request taking its connection's next cookie (connections never share one, except in the hot row). A row runs beside the rows it is compared with, its floor and its raw store: their servers are all up at once, each warmed up in turn, then each measured in ${SLICES} slices of ${
    SECONDS / SLICES
  } s taken in turn (raw, floor, tessera, raw, floor, tessera, …), so a ratio compares servers loaded through the same moments of a shared machine. ${REPEAT} interleaved rounds (every group once, then again); each figure is the row's **median** round (median req/s, median CPU per request), and every ratio compares medians of the same run. Same handler body everywhere: \`new Response(\`visit \${n}\`)\`.`,
  "",
  "**Floor** rows (bench/_floor.ts) are stand-alone handlers, no tessera import, doing only what the session contract requires: read the `Cookie` header, check the token's shape and SHA-256 it, look the record up, decode and check it (version, field types, the record's channel against the request's scheme, idle and absolute timeouts), keep it for the request in a WeakMap and in AsyncLocalStorage, answer with `Vary: Cookie` and `Cache-Control: private`; on a write, add the write's id to the record's 16 recent ones (issue 12's idempotent commits, as tessera keeps them), encode the record and store it with a versioned check. The memory floor keeps a plain `Map` and answers synchronously. **Raw** rows do only the KV calls (one `get` + `JSON.parse`; plus one `atomic().check().set()` to write), no cookie checks, hashing or session context.",
  "",
  "*CPU µs/req* is the server process's user + system time (all its threads) per request answered: what the row costs, whatever the load generator managed. *CPU %* is the server's use of its one core: near 100 % means the server set the pace. *× floor* and *× bare/raw*: this row's req/s over the compared row's, and (CPU) the compared row's CPU per request over this row's — the throughput ratio the two would show on a core each with an infinitely fast client.",
  "",
  "![Each tessera row against its floor and its bare or raw server](charts/floor.svg)",
  "",
  "| Row | req/s (min–max) | CPU µs/req | CPU % | p50 ms | p99 ms | failed | floor | × floor req/s | × floor CPU | bare / raw | × req/s | × CPU |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: |",
);
const growthIds = new Set(
  ALL_ROWS.filter((r) => r.seeded !== undefined).map((r) => r.id),
);
for (const [id, summary] of results) {
  if (growthIds.has(id)) continue;
  const row = summary.row;
  const f = ratios(id, row.floor);
  const b = ratios(id, row.bare);
  lines.push(
    `| ${row.label} | ${fmt(summary.rps)} (${fmt(summary.spread[0])}–${
      fmt(summary.spread[1])
    }) | ${fmt(summary.cpuPerRequest, 1)} | ${
      fmt((summary.cpuShare ?? NaN) * 100)
    } | ${fmt(summary.typical.load.p50, 2)} | ${
      fmt(summary.typical.load.p99, 2)
    } | ${summary.failures} | ${label(row.floor)} | ${fmt(f.rps, 2)} | ${
      fmt(f.cpu, 2)
    } | ${label(row.bare)} | ${fmt(b.rps, 2)} | ${fmt(b.cpu, 2)} |`,
  );
}
lines.push(
  "",
  "*failed*: non-2xx responses and connection errors over all rounds.",
  "",
  "Bun rows send one request per connection at a time: Bun 1.4 closes or stalls a connection when an HTTP/1.1 request is pipelined behind an async handler (oven-sh/bun#38128), so on Bun the load generator, not the server, may set the pace: read the CPU column there.",
  "",
  "## Targets (issues 12 and 14)",
  "",
  "| Row | against | ratio req/s | ratio CPU | target | met | its floor against the same row (req/s / CPU) |",
  "| --- | --- | ---: | ---: | ---: | :---: | ---: |",
);
for (const t of TARGETS) {
  if (!results.has(t.row) || !results.has(t.against)) continue;
  const r = ratios(t.row, t.against);
  // Against a raw store, the floor shows what the contract alone leaves.
  const floor = results.get(t.row)!.row.floor;
  const f = floor !== undefined && floor !== t.against
    ? ratios(floor, t.against)
    : undefined;
  lines.push(
    `| ${label(t.row)} | ${label(t.against)} | ${fmt(r.rps, 2)} | ${
      fmt(r.cpu, 2)
    } | ≥ ${t.target.toFixed(2)} | ${met(t) ? "yes" : "**no**"} | ${
      f === undefined ? "" : `${fmt(f.rps, 2)} / ${fmt(f.cpu, 2)}`
    } |`,
  );
}
lines.push(
  "",
  "*met*: the lower of the two ratios reaches the target. *Its floor*: for a target against a raw store, the row's floor against that same raw row, measured alike: a session layer doing only what the contract requires cannot do better than that ratio, so a target above it is out of reach by contract, not by tessera's code.",
);
const warmed = [...results.values()].filter((s) =>
  s.row.floor !== undefined && results.has(s.row.floor) &&
  s.warmupCpuPerRequest !== undefined
);
if (warmed.length > 0 && WARMUP > 0) {
  lines.push(
    "",
    "## Warm-up",
    "",
    `Each server answers load for at least ${WARMUP} s, and until it has answered ${WARMUP_REQUESTS} requests (at most ${WARMUP_MAX} s), before its measured seconds; the warm-up is not in the tables above, which measure a server that has been running, as a deployed one has. While the JIT compilers (V8 on Deno, JavaScriptCore on Bun) still compile the handler's hot code, their threads share the server's one core and count in its CPU, and tessera has more code to compile than its floor. They compile after enough calls, not after enough time, hence a count: in one Bun process writing to a @deno/kv file (about 2,000 writes a second), the JIT threads' CPU fell to near nothing after about 12,000 writes of the floor and 15,000 of tessera, and tessera's CPU per write then matched its floor's. What the warm-up cost, per request, for each row with a floor (median of the rounds):`,
    "",
    "| Row | warm-up s | warm-up CPU µs/req | measured CPU µs/req | its floor's warm-up | its floor's measured | × floor, warm-up CPU | × floor, measured CPU |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const s of warmed) {
    const floor = results.get(s.row.floor!)!;
    const w = floor.warmupCpuPerRequest === undefined
      ? undefined
      : floor.warmupCpuPerRequest / s.warmupCpuPerRequest!;
    lines.push(
      `| ${s.row.label} | ${fmt(s.warmupSeconds)} | ${
        fmt(s.warmupCpuPerRequest, 1)
      } | ${fmt(s.cpuPerRequest, 1)} | ${fmt(floor.warmupCpuPerRequest, 1)} | ${
        fmt(floor.cpuPerRequest, 1)
      } | ${fmt(w, 2)} | ${fmt(ratios(s.row.id, s.row.floor).cpu, 2)} |`,
    );
  }
}
if (profiled.length > 0) {
  lines.push(
    "",
    ...profileSection(
      profiled,
      "`deno task bench:http` does it unless given `--no-profiles`",
      SECONDS,
    ),
  );
}
const hot = results.get("hot");
if (hot?.hot) {
  lines.push(
    "",
    `Hot session, 32 clients on one session (KV): ${
      fmt(hot.rps)
    } req/s; ${hot.hot.acknowledged} increments acknowledged over ${REPEAT} rounds, ${hot.hot.conflicts} of ${hot.hot.commits} commits conflicted and were retried, ${hot.hot.refused} saves gave up after maxAttempts (5xx, nothing stored): ${
      hot.hot.lost === 0 && hot.hot.phantom === 0
        ? "**0 lost, 0 stored without acknowledgement**"
        : `**${hot.hot.lost} lost, ${hot.hot.phantom} stored although refused**`
    }.`,
  );
}

const peerLines = PEERS.filter((p) =>
  results.has(p.row) && results.has(p.peer)
);
if (peerLines.length > 0) {
  lines.push(
    "",
    "## Peers",
    "",
    "The same counter (`visits + 1`, then `visit N`) on each library's in-memory store, 256 sessions. Express runs on Node; the others on Deno.",
    "",
    "![tessera and the peers, req/s and CPU per request](charts/peers.svg)",
    "",
    "| tessera row | peer | peer req/s | peer CPU µs/req | tessera × peer, req/s | tessera × peer, CPU |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  );
  for (const p of peerLines) {
    const r = ratios(p.row, p.peer);
    const peer = results.get(p.peer)!;
    lines.push(
      `| ${label(p.row)} | ${label(p.peer)} | ${fmt(peer.rps)} | ${
        fmt(peer.cpuPerRequest, 1)
      } | ${fmt(r.rps, 2)} | ${fmt(r.cpu, 2)} |`,
    );
  }
}

const growthRows = [...results.values()].filter((s) => s.row.seeded);
if (growthRows.length > 0) {
  lines.push(
    "",
    "## Growth: KV read and write with many stored sessions",
    "",
    `Deno KV files seeded by \`scripts/seed_kv.ts\` (tessera's record layout; ${
      [...seeding].map(([n, s]) =>
        `${n.toLocaleString("en")}: ${
          s.reused ? "reused from an earlier run" : `${s.seconds.toFixed(0)} s`
        }`
      ).join(", ")
    }), the same 256-cookie load. *× 256* compares with the same row on a file of only the 256 sessions it uses.`,
    "",
    "![KV read and write req/s as the stored sessions grow](charts/growth.svg)",
    "",
    "| Row | sessions stored | req/s | CPU µs/req | × 256 req/s | × 256 CPU |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const s of growthRows) {
    const r = ratios(s.row.id, s.row.bare);
    lines.push(
      `| ${s.row.mode === "read-kv" ? "read" : "write"} | ${
        s.row.seeded!.toLocaleString("en")
      } | ${fmt(s.rps)} | ${fmt(s.cpuPerRequest, 1)} | ${fmt(r.rps, 2)} | ${
        fmt(r.cpu, 2)
      } |`,
    );
  }
  lines.push(
    "",
    "What grows: a Deno KV `get` is a B-tree lookup in SQLite, O(log n) page reads; while the file fits the page cache the depth adds a page or two per lookup, so req/s falls only slowly. A write also rewrites the leaf page and its WAL frame, and a bigger file makes checkpoints longer. Nothing in tessera scans the stored sessions on a request.",
  );
}

if (accounts) {
  lines.push(
    "",
    "## Growth: one user's sessions",
    "",
    "`listSessions` and `revokeUserSessions` for one user with 10, 100 and 1,000 sessions (plus 1,000 sessions of another user in the same store), median of 5 lists / 3 revokes (`bench/accounts_growth.ts`).",
    "",
    "![listSessions and revokeUserSessions time by sessions of one user](charts/accounts.svg)",
    "",
    "| store | user's sessions | listSessions ms | revokeUserSessions ms |",
    "| --- | ---: | ---: | ---: |",
  );
  for (const [name, figures] of Object.entries(accounts)) {
    for (const f of figures) {
      lines.push(
        `| ${name === "kv" ? "kvStore (file)" : "memoryStore"} | ${
          f.sessions.toLocaleString("en")
        } | ${fmt(f.listMs, 2)} | ${fmt(f.revokeMs, 2)} |`,
      );
    }
  }
  lines.push(
    "",
    "Both grow linearly with the user's sessions, not with what else the store holds: each lists the user's index prefix (`[\"user\", id]`, a prefix scan), then `listSessions` reads and decodes one record per entry, one `get` after another (on a KV file, 1,000 sequential reads are most of its time), and `revokeUserSessions` deletes the entries and records in atomic commits of 50 sessions each.",
  );
}

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

if (redisScaling) lines.push("", ...redisScalingSection(redisScaling));

// ---- the charts ----

function charts(): Record<string, string> {
  const out: Record<string, string> = {};
  const floorGroups: BarGroup[] = [...results.values()]
    .filter((s) => s.row.floor !== undefined)
    .map((s) => ({
      label: s.row.label,
      bars: [
        {
          series: "× its floor (req/s)",
          value: ratios(s.row.id, s.row.floor).rps,
        },
        {
          series: "× its floor (CPU)",
          value: ratios(s.row.id, s.row.floor).cpu,
        },
        {
          series: "× bare / raw (req/s)",
          value: ratios(s.row.id, s.row.bare).rps,
        },
      ],
    }));
  if (floorGroups.length > 0) {
    out["floor.svg"] = barChart(
      "tessera against its floor and the bare or raw server",
      floorGroups,
      {
        markers: [{ value: 1, label: "1.0 = floor" }, {
          value: 0.9,
          label: "0.9",
        }],
      },
    );
  }
  const peerIds = [...new Set(PEERS.flatMap((p) => [p.row, p.peer]))]
    .filter((id) => results.has(id));
  if (peerIds.length > 1) {
    out["peers.svg"] = barChart(
      "The counter on each library's memory store (higher is better)",
      peerIds.map((id) => {
        const s = results.get(id)!;
        return {
          label: label(id),
          bars: [
            { series: "thousand req/s", value: s.rps / 1000 },
            {
              series: "thousand requests per CPU second (1000 / CPU µs)",
              value: s.cpuPerRequest === undefined
                ? undefined
                : 1000 / s.cpuPerRequest,
            },
          ],
        };
      }),
      { digits: 1 },
    );
  }
  if (growthRows.length > 0) {
    out["growth.svg"] = lineChart("Deno KV file: req/s by sessions stored", {
      x: "sessions stored (log)",
      y: "req/s",
    }, [
      ...["read-kv", "write-kv"].map((mode) => ({
        name: mode === "read-kv" ? "tessera read" : "tessera write",
        points: [
          ...(results.has(mode)
            ? [[SESSIONS, results.get(mode)!.rps] as [number, number]]
            : []),
          ...growthRows.filter((s) => s.row.mode === mode).map((s) =>
            [s.row.seeded!, s.rps] as [number, number]
          ),
        ],
      })),
    ]);
  }
  if (redisScaling) {
    out["redis_scaling.svg"] = barChart(
      "One Redis, 1 to 3 app processes (Deno, node-redis)",
      redisScaling.figures.map((f) => ({
        label: `${
          f.mode === "redis-read" ? "read" : "write"
        }, ${f.processes} process${f.processes === 1 ? "" : "es"}`,
        bars: [{
          series: "thousand req/s, all processes",
          value: f.rps / 1000,
        }],
      })),
      { digits: 1 },
    );
  }
  if (accounts) {
    out["accounts.svg"] = lineChart(
      "One user's sessions: time per call",
      { x: "sessions of the user (log)", y: "ms" },
      Object.entries(accounts).flatMap(([store, figures]) => [
        {
          name: `listSessions, ${store}`,
          points: figures.map((f) =>
            [f.sessions, f.listMs] as [number, number]
          ),
        },
        {
          name: `revokeUserSessions, ${store}`,
          points: figures.map((f) =>
            [f.sessions, f.revokeMs] as [number, number]
          ),
        },
      ]),
    );
  }
  return out;
}

/** The README's performance table, from the same run (between markers). */
function readmeBlock(): string {
  const out = [
    `| row (median of ${REPEAT} rounds, ${
      new Date().toISOString().slice(0, 10)
    }) | req/s | CPU µs/req | × its floor (req/s / CPU) | × bare or raw (req/s / CPU) |`,
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const t of TARGETS) {
    const s = results.get(t.row);
    if (s === undefined) continue;
    const f = ratios(t.row, s.row.floor);
    const b = ratios(t.row, s.row.bare);
    out.push(
      `| ${s.row.label} | ${fmt(s.rps)} | ${fmt(s.cpuPerRequest, 1)} | ${
        fmt(f.rps, 2)
      } / ${fmt(f.cpu, 2)} | ${fmt(b.rps, 2)} / ${fmt(b.cpu, 2)} |`,
    );
  }
  for (const p of PEERS) {
    if (!results.has(p.row) || !results.has(p.peer)) continue;
    const r = ratios(p.row, p.peer);
    out.push(
      `| ${label(p.row)} vs ${label(p.peer)} | ${
        fmt(results.get(p.peer)!.rps)
      } | ${fmt(results.get(p.peer)!.cpuPerRequest, 1)} | | **${
        fmt(r.rps, 2)
      }× / ${fmt(r.cpu, 2)}×** the peer |`,
    );
  }
  return out.join("\n");
}

const report = lines.join("\n") + "\n";
if (args.out === "-") console.log(report);
else {
  const out = args.out.startsWith("/") ? args.out : `${rootPath}${args.out}`;
  await Deno.writeTextFile(out, report);
  const dir = `${out.slice(0, out.lastIndexOf("/"))}/charts`;
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, svg] of Object.entries(charts())) {
    await Deno.writeTextFile(`${dir}/${name}`, svg);
  }
  if (args.out === OPTIONS.out && only === undefined) {
    const readme = `${rootPath}README.md`;
    const text = await Deno.readTextFile(readme);
    const start = text.indexOf(README_START);
    const end = text.indexOf(README_END);
    if (start !== -1 && end > start) {
      await Deno.writeTextFile(
        readme,
        `${text.slice(0, start + README_START.length)}\n\n${readmeBlock()}\n\n${
          text.slice(end)
        }`,
      );
      // The project's formatter aligns Markdown tables: keep `fmt --check` clean.
      await new Deno.Command(Deno.execPath(), {
        args: ["fmt", "--quiet", readme],
        stdout: "null",
      }).output();
      console.error("updated the performance table in README.md");
    }
  }
  console.error(
    `wrote ${args.out} and its charts in ${dir} (${seconds.toFixed(0)} s)`,
  );
}
