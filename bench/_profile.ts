/**
 * Where a row's time goes: reads a V8 CPU profile (`--cpu-prof`, written by
 * Deno and by Bun) of one benchmark server and sums its samples by where the
 * code lives (a tessera file, the floor, a Deno extension, an npm package,
 * GC, …), per request served. bench/http.ts profiles the rows of every
 * missed target, and each row's comparison row, in a pass after the
 * measured rounds, and {@link profileSection} writes the tables.
 *
 * The figures are main-thread time only (a profiler samples the JavaScript
 * thread; Deno KV's SQLite thread is not in them), over the last seconds of
 * the server's life: the measured seconds, not the start-up, the priming of
 * its 256 sessions or the warm-up, whose code still runs in the JIT's lower
 * tiers (a whole-life profile put 6.6 µs per request of a Deno KV read in
 * src/_record.ts, where `deno task bench` times one decodeRecord at 0.9 µs).
 * The profiler runs meanwhile: read them as shares, not as the rows' CPU.
 * Bun's profiles (from JavaScriptCore's sampler) mark neither idle time nor
 * garbage collection: a sample is taken only while JavaScript runs and
 * carries the time since the previous one, so their time deltas add up to
 * the server's wall time (over a whole life, in one run, the profiled Bun
 * rows' totals were 1.9 to 2.5 times their measured CPU per request); the
 * text says so.
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
}

interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One profiled server: µs per request by bucket, and their sum. */
export interface RowProfile {
  requests: number;
  /** Busy main-thread µs per request (idle samples left out). */
  total: number;
  buckets: Map<string, number>;
}

/** The bucket a sample's function counts under; `null` for idle. */
function bucketOf(frame: CallFrame, root: string): string | null {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(idle)") return null;
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "native, not attributed";
    if (functionName.startsWith("op_")) return `Deno op ${functionName}`;
    return `built-in ${functionName || "(anonymous)"}`;
  }
  if (url.startsWith("ext:")) {
    return `Deno runtime ${url.slice(4).split("/")[0]}`;
  }
  if (url.startsWith("node:")) return url;
  const path = url.startsWith("file://")
    ? decodeURIComponent(new URL(url).pathname)
    : url;
  const at = path.lastIndexOf("node_modules/");
  if (at !== -1) {
    const parts = path.slice(at + 13).split("/");
    const name = parts[0]!.startsWith("@")
      ? `${parts[0]}/${parts[1]}`
      : parts[0]!;
    return `npm ${name}`;
  }
  return path.startsWith(root) ? path.slice(root.length) : path;
}

/**
 * Reads a profile file and attributes the busy samples of its last
 * `window` µs to buckets.
 *
 * @param file The `.cpuprofile` file.
 * @param requests Requests the server answered in that window.
 * @param root The repository's path, stripped from file names.
 * @param window How much of the profile's end to read, in µs (the measured
 * seconds: the server is stopped as soon as the load ends).
 * @returns µs per request by bucket.
 */
export async function readProfile(
  file: string,
  requests: number,
  root: string,
  window: number,
): Promise<RowProfile> {
  const profile: Profile = JSON.parse(await Deno.readTextFile(file));
  const bucketById = new Map<number, string | null>();
  for (const node of profile.nodes) {
    bucketById.set(node.id, bucketOf(node.callFrame, root));
  }
  // Each sample stands for the time until the next one.
  const micros = new Map<string, number>();
  const from = profile.endTime - window;
  let at = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from) continue;
    const bucket = bucketById.get(profile.samples[i]!);
    const span = profile.timeDeltas[i + 1] ??
      (profile.endTime - profile.startTime) / profile.samples.length;
    if (bucket === null || bucket === undefined || !(span > 0)) continue;
    micros.set(bucket, (micros.get(bucket) ?? 0) + span);
    total += span;
  }
  const buckets = new Map<string, number>();
  for (const [bucket, us] of micros) buckets.set(bucket, us / requests);
  return { requests, total: total / requests, buckets };
}

/** A missed target and the profiles of its two rows. */
export interface ProfiledTarget {
  label: string;
  againstLabel: string;
  row: RowProfile;
  against: RowProfile;
  /** Also shown: the row's floor, when it is held against a raw row. */
  floorLabel?: string;
  floor?: RowProfile;
}

const fixed = (n: number | undefined): string =>
  n === undefined ? "–" : n.toFixed(1);

/**
 * The RESULTS.md lines for the missed targets: per target, the buckets
 * where the row spends most beyond its comparison row.
 *
 * @param targets The missed targets with their profiles.
 * @param command How the profiles were made, for the text.
 * @param seconds How many seconds of each profile's end were read.
 * @returns Markdown lines.
 */
export function profileSection(
  targets: ProfiledTarget[],
  command: string,
  seconds: number,
): string[] {
  const lines = [
    "## Where the missed targets' time goes",
    "",
    `Each missed target's row and its comparison row, profiled once more after the measured rounds (${command}; one sample per 100 µs). Figures are **main-thread µs per request**, by where the code lives, summed over the last ${seconds} s before the server stopped (the measured seconds; start-up, priming and warm-up left out, as their code still runs in the JIT's slower tiers) and divided by the requests measured; a store's own threads (Deno KV's SQLite) are not in them, and the profiler itself slows every row a little. Read the *difference* column: what the row spends beyond its comparison row, largest first (the 12 largest; the rest summed). On Deno (V8's sampler) idle time is left out and garbage collection is its own entry. On Bun (JavaScriptCore's sampler) neither is marked: samples are taken only while JavaScript runs, and each one carries the time since the previous one, waiting included, so a Bun row's figures add up to its wall time rather than its CPU (its total can be twice its measured CPU per request, or more) and time spent waiting or collecting lands on whichever function ran next (often *built-in (anonymous)*): on Bun, read the tables as where the samples fell, not as costs.`,
  ];
  for (const t of targets) {
    const names = new Set([
      ...t.row.buckets.keys(),
      ...t.against.buckets.keys(),
      ...(t.floor?.buckets.keys() ?? []),
    ]);
    const diff = (name: string) =>
      (t.row.buckets.get(name) ?? 0) - (t.against.buckets.get(name) ?? 0);
    const sorted = [...names].sort((a, b) => diff(b) - diff(a));
    const shown = sorted.slice(0, 12);
    const rest = sorted.slice(12);
    const sum = (p: RowProfile | undefined, list: string[]) =>
      p === undefined
        ? undefined
        : list.reduce((n, name) => n + (p.buckets.get(name) ?? 0), 0);
    lines.push(
      "",
      `### ${t.label} against ${t.againstLabel}`,
      "",
      `| where | this row µs/req | ${t.againstLabel} µs/req |${
        t.floor ? ` ${t.floorLabel} µs/req |` : ""
      } difference |`,
      `| --- | ---: | ---: |${t.floor ? " ---: |" : ""} ---: |`,
    );
    const line = (
      name: string,
      a: number | undefined,
      b: number | undefined,
      f: number | undefined,
    ) =>
      `| ${name} | ${fixed(a)} | ${fixed(b)} |${
        t.floor ? ` ${fixed(f)} |` : ""
      } ${fixed((a ?? 0) - (b ?? 0))} |`;
    for (const name of shown) {
      lines.push(
        line(
          name,
          t.row.buckets.get(name),
          t.against.buckets.get(name),
          t.floor?.buckets.get(name),
        ),
      );
    }
    if (rest.length > 0) {
      lines.push(
        line(
          `everything else (${rest.length} places)`,
          sum(t.row, rest),
          sum(t.against, rest),
          sum(t.floor, rest),
        ),
      );
    }
    lines.push(
      line(
        "**all, main thread**",
        t.row.total,
        t.against.total,
        t.floor?.total,
      ),
    );
  }
  return lines;
}
