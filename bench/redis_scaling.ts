/**
 * Redis growth by app processes: tessera read and write req/s with 1, 2 and
 * 3 app server processes (Deno, node-redis) on one redis-server, and what
 * Redis spends per request. bench/http.ts runs it in its own process and
 * reads the JSON line it prints last.
 *
 * Usage: `deno run -A bench/redis_scaling.ts [seconds] [rounds]`
 *
 * Each configuration starts its processes (bench/http_server.ts, the same
 * `redis-read` / `redis-write` servers as bench/http.ts's Redis rows, each
 * with 256 sessions of its own), all pinned to CPU 0 like the single rows,
 * and one load generator per process on CPU 1 (bench/_load.mjs, the 32
 * connections split between them). redis-server is not pinned. Rounds are
 * interleaved; each figure is the configuration's median round. Redis CPU
 * comes from `INFO cpu` before and after the measured seconds.
 *
 * @module
 */
import { median } from "./_median.ts";
import { type RedisServer, startRedis } from "../tests/conformance/_redis.ts";
import { pinned, readyLine, runLoad, stopProcess } from "./_server_process.ts";

const SECONDS = Number(Deno.args[0] ?? 2);
const ROUNDS = Number(Deno.args[1] ?? 3);
const CONNECTIONS = 32;
const PIPELINING = 8;
const PROCESSES = [1, 2, 3];
const MODES = ["redis-read", "redis-write"] as const;
const root = new URL("..", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);

/** One configuration's measured round. */
interface Round {
  /** 2xx answers per second, all processes together. */
  rps: number;
  /** App processes' CPU µs per request (all of them, summed). */
  appCpu: number | null;
  /** redis-server CPU µs per request. */
  redisCpu: number;
  /** redis-server's use of its core, 0–1. */
  redisShare: number;
  /** Answers that were not 2xx, or errors. */
  failed: number;
}

/** What this script prints: one figure per mode and process count. */
export interface RedisScaling {
  redis: string;
  seconds: number;
  rounds: number;
  figures: ({ mode: string; processes: number } & Round)[];
}

async function redisCli(server: RedisServer, args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(server.port), ...args],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error(`redis-cli ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

async function redisCpuSeconds(server: RedisServer): Promise<number> {
  const info = await redisCli(server, ["INFO", "cpu"]);
  const field = (name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? NaN);
  return field("used_cpu_sys") + field("used_cpu_user");
}

interface AppServer {
  child: Deno.ChildProcess;
  port: number;
  cookies: string[];
}

async function startApp(mode: string, url: string): Promise<AppServer> {
  const [bin, ...args] = pinned(0, [
    Deno.execPath(),
    "run",
    "-A",
    `${rootPath}bench/http_server.ts`,
    mode,
    url,
    "256",
  ]);
  const child = new Deno.Command(bin!, {
    args,
    cwd: rootPath,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { child, ...await readyLine(child, mode) };
}

/** Runs one load generator per app, at once, for `seconds`. */
async function loadAll(
  apps: AppServer[],
  seconds: number,
  dir: string,
): Promise<{ ok: number; failed: number; cpu: number | null; secs: number }> {
  const results = await Promise.all(apps.map(async (app, i) => {
    const [result] = await runLoad<{
      ok: number;
      non2xx: number;
      errors: number;
      seconds: number;
      cpu: number | null;
    }[]>(
      {
        targets: [{
          url: `http://127.0.0.1:${app.port}/`,
          // The connections split between the processes (32, 16 + 16, …).
          connections: Math.round(CONNECTIONS / apps.length),
          pipelining: PIPELINING,
          pid: Deno.build.os === "linux" ? app.child.pid : undefined,
          cookies: app.cookies,
        }],
        slices: 1,
        warmup: 0,
        seconds,
      },
      `${dir}/load-${i}.json`,
      rootPath,
    );
    return result!;
  }));
  const cpus = results.map((r) => r.cpu);
  return {
    ok: results.reduce((n, r) => n + r.ok, 0),
    failed: results.reduce((n, r) => n + r.non2xx + r.errors, 0),
    cpu: cpus.every((c) => c !== null)
      ? cpus.reduce((n, c) => n! + c!, 0)
      : null,
    secs: Math.max(...results.map((r) => r.seconds)),
  };
}

async function measure(
  server: RedisServer,
  mode: string,
  processes: number,
): Promise<Round> {
  await redisCli(server, ["FLUSHALL"]);
  const dir = await Deno.makeTempDir({ prefix: "tessera-redis-scaling-" });
  const apps: AppServer[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      apps.push(await startApp(mode, server.url));
    }
    await loadAll(apps, 1, dir); // warm-up, discarded
    const before = await redisCpuSeconds(server);
    const load = await loadAll(apps, SECONDS, dir);
    const redisCpu = await redisCpuSeconds(server) - before;
    const requests = load.ok + load.failed;
    return {
      rps: load.ok / load.secs,
      appCpu: load.cpu === null ? null : load.cpu * 1e6 / requests,
      redisCpu: redisCpu * 1e6 / requests,
      redisShare: redisCpu / load.secs,
      failed: load.failed,
    };
  } finally {
    await Promise.all(apps.map((app) => stopProcess(app.child)));
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (!(SECONDS >= 1 && SECONDS <= 60 && ROUNDS >= 1 && ROUNDS <= 10)) {
    throw new RangeError(
      `usage: redis_scaling.ts [seconds 1–60] [rounds 1–10], got ${Deno.args}`,
    );
  }
  const server = await startRedis(["--maxmemory-policy", "noeviction"]);
  try {
    const version = /redis_version:(\S+)/.exec(
      await redisCli(server, ["INFO", "server"]),
    )?.[1] ?? "?";
    const rounds = new Map<string, Round[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        for (const processes of PROCESSES) {
          const id = `${mode} ${processes}`;
          const result = await measure(server, mode, processes);
          rounds.set(id, [...rounds.get(id) ?? [], result]);
          console.error(
            `redis scaling, round ${round + 1}: ${id} process(es): ${
              result.rps.toFixed(0)
            } req/s`,
          );
        }
      }
    }
    const figures: RedisScaling["figures"] = [];
    for (const mode of MODES) {
      for (const processes of PROCESSES) {
        const all = rounds.get(`${mode} ${processes}`)!;
        const pick = (f: (r: Round) => number | null) => {
          const values = all.map(f).filter((v): v is number => v !== null);
          return values.length === 0 ? null : median(values);
        };
        figures.push({
          mode,
          processes,
          rps: pick((r) => r.rps)!,
          appCpu: pick((r) => r.appCpu),
          redisCpu: pick((r) => r.redisCpu)!,
          redisShare: pick((r) => r.redisShare)!,
          failed: all.reduce((n, r) => n + r.failed, 0),
        });
      }
    }
    const out: RedisScaling = {
      redis: version,
      seconds: SECONDS,
      rounds: ROUNDS,
      figures,
    };
    console.log(JSON.stringify(out));
  } finally {
    await server.stop();
  }
}
