// The load generator of bench/http.ts: autocannon (npm, pinned in
// package.json), driven through its programmatic API from Node.
//
// Usage: node bench/_load.mjs <config.json>
//   { targets: [{ url, connections, pipelining, pid?, cookies? }, …],
//     warmup, warmupAtLeast?, warmupAtMost?, seconds, slices }
// Warms each target up in turn: `warmup` seconds of load (discarded), and
// more, a second at a time, until its warm-up has `warmupAtLeast` answers or
// lasted `warmupAtMost` seconds. Then measures `seconds` per target, in
// `slices` slices taken in turn (target 1, 2, 3, then 1, 2, 3 again, …), so
// the servers compared with each other are measured through the same
// moments of a shared machine, not one after another. Prints one JSON line,
// an array with one object per target: requests (and those of the
// warm-up), 2xx, non-2xx, errors, measured seconds, latency percentiles in
// milliseconds (measured per response with process.hrtime, so
// sub-millisecond values are kept; autocannon's own histogram rounds to
// whole milliseconds) and, on Linux, the CPU seconds the server process
// `pid` used during its measured slices and during its warm-up (from /proc,
// which Node reads without the --allow-all that Deno would need).
//
// Cookies are partitioned between connections: connection k sends the
// cookies k, k + C, k + 2C, … in turn (C connections), so each request takes
// the next cookie of its connection, the whole set is spread evenly, and two
// connections never use one session at the same time (a distinct-session
// write workload must not conflict). With a single cookie every connection
// sends it (the hot-session row).
//
// Pipelining: autocannon on one core makes about 65k requests/s one at a
// time, half of what a bare Deno.serve answers on the other core, so
// bench/http.ts pipelines a few requests per connection to keep the server,
// not the generator, the bottleneck. The server still answers a connection's
// requests one after another.
import { readFileSync } from "node:fs";
import process from "node:process";
import autocannon from "autocannon";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { targets, slices } = config;

/** autocannon's setupClient for `target`: its cookies, partitioned. */
function clientSetup(target) {
  const cookies = target.cookies ?? [];
  let nextClient = 0;
  return (client) => {
    if (cookies.length === 0) return;
    const k = nextClient++ % target.connections;
    const mine = [];
    if (cookies.length === 1) mine.push(cookies[0]);
    else {
      for (let i = k; i < cookies.length; i += target.connections) {
        mine.push(cookies[i]);
      }
    }
    // client.setRequests() refuses to run with pipelining > 1; the iterator
    // underneath is what it would call (autocannon 8.0.0, pinned).
    client.requestIterator.setRequests(
      mine.map((cookie) => ({ method: "GET", headers: { cookie } })),
    );
  };
}

/** User + system CPU seconds of a process and all its threads (Linux). */
function cpuSeconds(pid) {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of proc(5), in 1/100 s ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Loads `target` for `seconds`; its answers, and the seconds it took. */
async function run(target, seconds, latencies) {
  const instance = autocannon({
    url: target.url,
    connections: target.connections,
    duration: seconds,
    pipelining: target.pipelining ?? 1,
    timeout: 10,
    setupClient: clientSetup(target),
  });
  if (latencies) {
    instance.on("response", (_c, _s, _b, ms) => latencies.push(ms));
  }
  const start = process.hrtime.bigint();
  const result = await instance;
  // autocannon's own duration is rounded to 10 ms: too coarse for a slice.
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

const figures = [];
for (const target of targets) {
  const warmCpuBefore = cpuSeconds(target.pid);
  let warmupRequests = 0;
  let warmupSeconds = 0;
  if (config.warmup > 0) {
    // A JIT compiles after enough calls, not after enough time: a slow row
    // needs more seconds to run its code as often as a fast one.
    const atLeast = config.warmupAtLeast ?? 0;
    const atMost = Math.max(config.warmup, config.warmupAtMost ?? 0);
    let slice = config.warmup;
    do {
      const { result } = await run(target, slice);
      warmupRequests += result["2xx"] + result.non2xx;
      warmupSeconds += slice;
      slice = 1;
    } while (warmupRequests < atLeast && warmupSeconds < atMost);
  }
  const warmCpuAfter = cpuSeconds(target.pid);
  figures.push({
    // Latencies of every measured response, in ms. Bounded by the run's
    // length: at most a few hundred thousand numbers per target.
    latencies: [],
    warmupRequests,
    warmupSeconds,
    warmupCpu: warmupSeconds === 0 || warmCpuBefore === undefined ||
        warmCpuAfter === undefined
      ? null
      : warmCpuAfter - warmCpuBefore,
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    seconds: 0,
    cpu: 0,
  });
}

for (let slice = 0; slice < slices; slice++) {
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i];
    const f = figures[i];
    const before = cpuSeconds(target.pid);
    const { result, seconds } = await run(
      target,
      config.seconds / slices,
      f.latencies,
    );
    const after = cpuSeconds(target.pid);
    f.ok += result["2xx"];
    f.non2xx += result.non2xx;
    f.errors += result.errors;
    f.timeouts += result.timeouts;
    f.seconds += seconds;
    f.cpu = f.cpu === null || before === undefined || after === undefined
      ? null
      : f.cpu + after - before;
  }
}

const out = figures.map(({ latencies, ...f }) => {
  latencies.sort((a, b) => a - b);
  const pick = (q) =>
    latencies.length === 0 ? 0 : latencies[
      Math.min(latencies.length - 1, Math.floor(q * latencies.length))
    ];
  return {
    requests: latencies.length,
    ...f,
    p50: pick(0.5),
    p99: pick(0.99),
  };
});
console.log(JSON.stringify(out));
