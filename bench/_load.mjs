// The load generator of bench/http.ts: autocannon (npm, pinned in
// package.json), driven through its programmatic API from Node.
//
// Usage: node bench/_load.mjs <config.json>
//   { url, connections, pipelining, warmup, warmupAtLeast?, warmupAtMost?,
//     seconds, pid?, cookies?: string[] }
// Runs `warmup` seconds of load (discarded), and more, a second at a time,
// until the warm-up has `warmupAtLeast` answers or lasted `warmupAtMost`
// seconds; then `seconds` measured, and
// prints one JSON line: requests (and those of the warm-up), 2xx, non-2xx,
// errors, elapsed seconds,
// latency percentiles in milliseconds (measured per response with
// process.hrtime, so sub-millisecond values are kept; autocannon's own
// histogram rounds to whole milliseconds) and, on Linux, the CPU seconds the
// server process `pid` used during the measured part and during the warm-up
// (from /proc, which Node reads without the --allow-all that Deno would
// need).
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
const connections = config.connections;
const cookies = config.cookies ?? [];

let nextClient = 0;
function setupClient(client) {
  if (cookies.length === 0) return;
  const k = nextClient++ % connections;
  const mine = [];
  if (cookies.length === 1) mine.push(cookies[0]);
  else {
    for (let i = k; i < cookies.length; i += connections) mine.push(cookies[i]);
  }
  // client.setRequests() refuses to run with pipelining > 1; the iterator
  // underneath is what it would call (autocannon 8.0.0, pinned).
  client.requestIterator.setRequests(
    mine.map((cookie) => ({ method: "GET", headers: { cookie } })),
  );
}

/** User + system CPU seconds of a process and all its threads (Linux). */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of proc(5), in 1/100 s ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function run(seconds, latencies) {
  nextClient = 0;
  const instance = autocannon({
    url: config.url,
    connections,
    duration: seconds,
    pipelining: config.pipelining ?? 1,
    timeout: 10,
    setupClient,
  });
  if (latencies) {
    instance.on("response", (_c, _s, _b, ms) => latencies.push(ms));
  }
  return await instance;
}

const warmCpuBefore = config.pid ? cpuSeconds(config.pid) : undefined;
let warmupRequests = 0;
let warmupSeconds = 0;
if (config.warmup > 0) {
  // A JIT compiles after enough calls, not after enough time: a slow row
  // needs more seconds to run its code as often as a fast one.
  const atLeast = config.warmupAtLeast ?? 0;
  const atMost = Math.max(config.warmup, config.warmupAtMost ?? 0);
  let slice = config.warmup;
  do {
    const warm = await run(slice);
    warmupRequests += warm["2xx"] + warm.non2xx;
    warmupSeconds += slice;
    slice = 1;
  } while (warmupRequests < atLeast && warmupSeconds < atMost);
}

// Latencies of every measured response, in ms. Bounded by the run's length:
// at most a few hundred thousand numbers.
const latencies = [];
const cpuBefore = config.pid ? cpuSeconds(config.pid) : undefined;
const result = await run(config.seconds, latencies);
const cpuAfter = config.pid ? cpuSeconds(config.pid) : undefined;

latencies.sort((a, b) => a - b);
const pick = (q) =>
  latencies.length === 0 ? 0 : latencies[
    Math.min(latencies.length - 1, Math.floor(q * latencies.length))
  ];
console.log(JSON.stringify({
  requests: latencies.length,
  warmupRequests,
  warmupSeconds,
  ok: result["2xx"],
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  seconds: result.duration,
  p50: pick(0.5),
  p99: pick(0.99),
  cpu: cpuBefore === undefined || cpuAfter === undefined
    ? null
    : cpuAfter - cpuBefore,
  warmupCpu: warmupSeconds === 0 || warmCpuBefore === undefined ||
      cpuBefore === undefined
    ? null
    : cpuBefore - warmCpuBefore,
}));
