/**
 * The RESULTS.md section of bench/redis_scaling.ts's figures.
 *
 * @module
 */

/** What bench/redis_scaling.ts prints. */
export interface RedisScaling {
  redis: string;
  seconds: number;
  rounds: number;
  figures: {
    mode: string;
    processes: number;
    rps: number;
    appCpu: number | null;
    redisCpu: number;
    redisShare: number;
    failed: number;
  }[];
}

const fmt = (v: number | null, digits = 0): string =>
  v === null ? "–" : v.toLocaleString("en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

/** The section's lines: a heading, the table, the chart and what it shows. */
export function redisScalingSection(scaling: RedisScaling): string[] {
  const lines = [
    "## Growth: app processes on one Redis",
    "",
    `tessera read and write on \`redisStore\` (Deno, node-redis) with 1, 2 and 3 app server processes on one redis-server ${scaling.redis}; each process holds 256 sessions of its own and gets its share of the 32 connections (8 pipelined requests each) from a load generator of its own. All app processes are pinned to CPU 0, as every single-process row is, so the rows compare one core's worth of app servers split into more processes; the load generators run on CPU 1 and redis-server is not pinned. Median of ${scaling.rounds} interleaved rounds of ${scaling.seconds} s (\`deno run -A bench/redis_scaling.ts ${scaling.seconds} ${scaling.rounds}\`). *Redis CPU* is redis-server's user + system time per request (\`INFO cpu\` before and after), *Redis share* its use of one core.`,
    "",
    "![req/s with 1 to 3 app processes on one Redis](charts/redis_scaling.svg)",
    "",
    "| Row | app processes | req/s (all) | app CPU µs/req | Redis CPU µs/req | Redis share | one Redis core's ceiling, req/s | failed |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const f of scaling.figures) {
    lines.push(
      `| ${f.mode === "redis-read" ? "read" : "write"} | ${f.processes} | ${
        fmt(f.rps)
      } | ${fmt(f.appCpu, 1)} | ${fmt(f.redisCpu, 1)} | ${
        fmt(f.redisShare * 100)
      } % | ${fmt(1e6 / f.redisCpu)} | ${f.failed} |`,
    );
  }
  const pick = (mode: string, processes: number) =>
    scaling.figures.find((f) => f.mode === mode && f.processes === processes);
  const change = (mode: string, field: "rps" | "redisCpu") => {
    const one = pick(mode, 1)?.[field];
    const three = pick(mode, 3)?.[field];
    return one === undefined || three === undefined
      ? "?"
      : `${fmt(one, field === "rps" ? 0 : 1)} → ${
        fmt(three, field === "rps" ? 0 : 1)
      }`;
  };
  const failed = scaling.figures.reduce((n, f) => n + f.failed, 0);
  lines.push(
    "",
    `What grows and why: on this two-core machine the app processes share one core, so more processes cannot add throughput (read req/s ${
      change("redis-read", "rps")
    }, write ${
      change("redis-write", "rps")
    } from 1 to 3 processes); what they change is batching. Each process gets fewer connections, so each event-loop turn and each node-redis write to its socket carries fewer requests, and the app CPU per request rises, with the context switches between the processes on top. Redis' cost per request grows less (read ${
      change("redis-read", "redisCpu")
    } µs, write ${
      change("redis-write", "redisCpu")
    } µs), for the same reason: fewer commands per socket read. A read is one \`GET\`, a write one \`GET\` and one \`EVALSHA\` of the commit script, so one Redis core serves about the *ceiling* column's requests per second, however many app servers share it; below that, app servers on cores or machines of their own add up. ${
      failed === 0
        ? "No request failed: the processes never share a session, and each commit checks only its own keys, so there is no lock between them."
        : `${failed} requests failed (non-2xx or errors).`
    }`,
  );
  return lines;
}
