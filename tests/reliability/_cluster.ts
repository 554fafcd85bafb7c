// Starting and stopping session server processes that share one KV file.

/** What a server reports at `/stats`. */
export interface ServerStats {
  commits: number;
  conflicts: number;
  failures: Record<string, number>;
}

/** Running server processes. */
export interface Cluster {
  /** Base URLs, one per process, all on 127.0.0.1. */
  readonly urls: string[];
  /** Every process's `/stats`. */
  stats(): Promise<ServerStats[]>;
  /** Kills one process at once (SIGKILL), as a crash would. */
  kill(index: number): void;
  /** Stops every process (stdin closed, then SIGKILL after 5 s) and waits. */
  close(): Promise<void>;
}

const SERVER = new URL("./_server.ts", import.meta.url);

interface Child {
  process: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  drained: Promise<unknown>;
  stderr: Promise<string>;
}

/**
 * Starts `count` server processes on the KV file at `kvPath` (or the Redis
 * at a `redis://` URL, or the PostgreSQL table of a `postgres://` URL: see
 * _server.ts), each on its
 * own loopback port. Fails, killing what it started, if one is not
 * listening within `timeoutMs`.
 */
export async function startCluster(
  count: number,
  kvPath: string,
  timeoutMs = 20_000,
): Promise<Cluster> {
  const children: Child[] = [];
  const close = async () => {
    await Promise.all(children.map(async (child) => {
      await child.stdin.close().catch(() => {});
      const killer = setTimeout(() => {
        try {
          child.process.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 5_000);
      try {
        await child.process.status;
        await child.drained;
        await child.stderr;
      } finally {
        clearTimeout(killer);
      }
    }));
  };
  try {
    const ports = await Promise.all(
      Array.from({ length: count }, async () => {
        const process = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--quiet",
            "--no-prompt",
            "--unstable-kv",
            "--allow-net=127.0.0.1",
            "--allow-read",
            "--allow-write",
            "--allow-env",
            SERVER.href,
            kvPath,
          ],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const lines = process.stdout.pipeThrough(new TextDecoderStream())
          .getReader();
        const child: Child = {
          process,
          stdin: process.stdin.getWriter(),
          drained: Promise.resolve(),
          stderr: new Response(process.stderr).text(),
        };
        children.push(child);
        let buffered = "";
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`server not listening in ${timeoutMs} ms`)),
            timeoutMs,
          );
        });
        try {
          while (!buffered.includes("\n")) {
            const next = await Promise.race([lines.read(), timeout]);
            if (next.done) {
              throw new Error(
                `server exited before listening: ${await child.stderr}`,
              );
            }
            buffered += next.value;
          }
        } finally {
          clearTimeout(timer);
        }
        child.drained = (async () => {
          while (!(await lines.read()).done) { /* drain */ }
        })();
        return (JSON.parse(buffered.split("\n")[0]!) as { port: number }).port;
      }),
    );
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    return {
      urls,
      stats: () =>
        Promise.all(
          urls.map(async (url) =>
            await (await fetch(`${url}/stats`)).json() as ServerStats
          ),
        ),
      kill(index) {
        children[index]!.process.kill("SIGKILL");
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
