/**
 * A benchmark server's process, shared by bench/http.ts and
 * bench/redis_scaling.ts: pin it to a CPU, wait for the JSON line
 * bench/http_server.ts prints once it listens, stop it, and run the load
 * generator against it.
 *
 * @module
 */

/** Whether processes can be pinned to one CPU each (Linux, `taskset`, two
 * or more cores). */
export const hasTaskset: boolean = Deno.build.os === "linux" &&
  navigator.hardwareConcurrency >= 2 && await runs(["taskset", "-V"]);

/** Whether `cmd` runs and exits 0 (its output discarded). */
export async function runs(cmd: string[]): Promise<boolean> {
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

/**
 * `cmd` pinned to CPU `cpu` when {@link hasTaskset}, else as it is.
 *
 * @param cpu The CPU.
 * @param cmd The command and its arguments.
 * @returns The command to run.
 */
export function pinned(cpu: number, cmd: string[]): string[] {
  return hasTaskset ? ["taskset", "-c", String(cpu), ...cmd] : cmd;
}

/** What bench/http_server.ts prints once it listens. */
export interface Ready {
  port: number;
  cookies: string[];
}

/**
 * Reads the server's first stdout line (killing it after 30 s without
 * one), then keeps draining stdout so the server never blocks on a full
 * pipe.
 *
 * @param child The spawned server, stdout piped.
 * @param name The row, for the error.
 * @returns The port and cookies it printed.
 */
export async function readyLine(
  child: Deno.ChildProcess,
  name: string,
): Promise<Ready> {
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
      if (done) throw new Error(`${name}: the server exited before listening`);
      buffered += value;
    }
  } finally {
    clearTimeout(deadline);
  }
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  const ready = JSON.parse(buffered.slice(0, buffered.indexOf("\n")));
  return { port: ready.port, cookies: ready.cookies };
}

/**
 * Stops a server with SIGTERM (it writes a CPU profile on a normal exit),
 * SIGKILL after 10 s.
 *
 * @param child The server.
 */
export async function stopProcess(child: Deno.ChildProcess): Promise<void> {
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
}

/** One server bench/_load.mjs loads. */
export interface LoadTarget {
  url: string;
  connections: number;
  pipelining: number;
  /** The server's pid, whose CPU time it reads (Linux). */
  pid?: number;
  cookies: string[];
}

/** What bench/_load.mjs is told: the servers, measured in turn, a slice
 * each. */
export interface LoadConfig extends LoadTiming {
  targets: LoadTarget[];
  slices: number;
}

/** How long bench/_load.mjs loads each server. */
export interface LoadTiming {
  warmup: number;
  /** Warm up longer, a second at a time, until this many answers… */
  warmupAtLeast?: number;
  /** …or until the warm-up has lasted this many seconds. */
  warmupAtMost?: number;
  /** Measured seconds per server (split into `slices` with `targets`). */
  seconds: number;
}

/**
 * Runs the load generator (bench/_load.mjs, on Node, pinned to CPU 1 while
 * servers run on CPU 0) once and returns the JSON line it prints.
 *
 * @param config What to load and how.
 * @param file Where to write the config.
 * @param root The repository's path.
 * @returns The generator's figures.
 */
export async function runLoad<T>(
  config: LoadConfig,
  file: string,
  root: string,
): Promise<T> {
  await Deno.writeTextFile(file, JSON.stringify(config));
  const [bin, ...args] = pinned(1, ["node", `${root}bench/_load.mjs`, file]);
  const out = await new Deno.Command(bin!, {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`load generator failed: ${text}`);
  return JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
}
