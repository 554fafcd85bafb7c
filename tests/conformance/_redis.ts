// A real redis-server for the tests, on a free loopback port, runtime-neutral
// (node: modules only, so Deno and Bun share it). A missing redis-server is a
// failure, never a skip: `npm run setup` installs it.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A running redis-server started by a test. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null
        ? address.port
        : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `redis-server` on 127.0.0.1 without persistence (unless `extra`
 * asks for it) and resolves once it accepts connections.
 */
export async function startRedis(
  extra: string[] = [],
  port?: number,
): Promise<RedisServer> {
  for (let attempt = 1;; attempt++) {
    const chosen = port ?? await freePort();
    try {
      return await launch(chosen, extra);
    } catch (error) {
      // Another process took the port between freePort() and the bind.
      if (attempt >= 5 || port !== undefined || !isPortTaken(error)) {
        throw error;
      }
    }
  }
}

function isPortTaken(error: unknown): boolean {
  return error instanceof Error && /Address already in use/.test(error.message);
}

function launch(port: number, extra: string[]): Promise<RedisServer> {
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    ...extra,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  return new Promise<RedisServer>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start in 20 s:\n${output}`));
    }, 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? new Error(
            "redis-server is not installed: run `npm run setup` (the Redis suites need it)",
          )
          : error,
      );
    };
    const early = (code: number | null) =>
      fail(new Error(`redis-server exited with ${code}:\n${output}`));
    child.once("error", fail);
    child.once("exit", early);
    child.stdout!.on("data", (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.off("exit", early);
        child.off("error", fail);
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(server(child, port, exited));
      }
    });
    child.stderr!.on("data", (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
    });
  });
}

function server(
  child: ChildProcess,
  port: number,
  exited: Promise<void>,
): RedisServer {
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}
