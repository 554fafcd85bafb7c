// A real PostgreSQL server for a test file, on Deno and Bun alike (node:
// modules only). Debian's binaries (/usr/lib/postgresql/*/bin, installed by
// scripts/setup.sh): initdb into a fresh temp dir, then `postgres` on a free
// 127.0.0.1 port. Tests run as root and PostgreSQL refuses to, so the server
// runs as the `postgres` OS user, with the data dir owned by it.
//
// The server is driven by a small shell supervisor that reads commands on its
// stdin. When the test process ends, however it ends (SIGKILL included), that
// pipe closes and the supervisor stops PostgreSQL and removes the data dir, so
// no server outlives its test file. Starting fails loudly: a suite that needs
// PostgreSQL fails, never skips, when none can start.
import { spawn } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** A running PostgreSQL server of this test file. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, loopback). */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown (SIGINT); data kept, `start()` brings it back. */
  stop(): Promise<void>;
  /** Immediate shutdown (SIGQUIT): no checkpoint, WAL recovery on start. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data; idempotent. */
  close(): Promise<void>;
}

// $1 data root, $2 port, $3 bin dir, then `-c name=value` settings.
const SUPERVISOR = String.raw`
root=$1; port=$2; bin=$3; shift 3
as=
if [ "$(id -u)" = 0 ]; then as="setpriv --reuid=postgres --regid=postgres --init-groups"; else as="setpriv"; fi
if ! $as -- "$bin/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --no-sync >"$root/initdb.log" 2>&1; then
  echo "failed initdb: $(tail -n 5 "$root/initdb.log" | tr '\n' ' ')"; rm -rf "$root"; exit 1
fi
pg=
up() {
  # Should this supervisor be killed outright, the server still stops.
  $as --pdeathsig INT -- "$bin/postgres" -D "$root/data" -p "$port" -k "$root" -c listen_addresses=127.0.0.1 "$@" >>"$root/server.log" 2>&1 &
  pg=$!
  i=0
  until $as -- "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; do
    i=$((i + 1))
    if ! kill -0 "$pg" 2>/dev/null || [ "$i" -gt 600 ]; then
      echo "failed start: $(tail -n 5 "$root/server.log" | tr '\n' ' ')"; return
    fi
    sleep 0.05
  done
  echo ready
}
down() {
  if [ -n "$pg" ]; then kill -"$1" "$pg" 2>/dev/null; wait "$pg" 2>/dev/null; fi
  pg=
  echo stopped
}
up "$@"
while read -r command; do
  case "$command" in
    start) up "$@" ;;
    stop) down INT ;;
    crash) down QUIT ;;
    *) echo "unknown $command" ;;
  esac
done
down INT >/dev/null
rm -rf "$root"
`;

/** Settings that make a throwaway server start fast and stay small. */
const TEST_SETTINGS = {
  fsync: "off",
  full_page_writes: "off",
  shared_buffers: "32MB",
  max_connections: "200",
};

/** The directory of the newest installed PostgreSQL's binaries. */
function binDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin/postgres")))
      .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): " +
        "run `npm run setup` (scripts/setup.sh installs Debian's postgresql)",
    );
  }
  return join(base, versions[0]!, "bin");
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port"))
      );
    });
  });
}

/**
 * Starts a fresh PostgreSQL server (initdb + postgres on a free loopback
 * port). Throws, with the server's own words, when none can start.
 */
export async function startPostgres(
  settings: Record<string, string> = {},
): Promise<PostgresServer> {
  const bin = binDir();
  let lastError: unknown;
  // A port taken between freePort() and the server binding it: try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(bin, await freePort(), settings);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(
  bin: string,
  port: number,
  settings: Record<string, string>,
): Promise<PostgresServer> {
  const root = mkdtempSync(join(tempRoot(), "tessera-pg-"));
  if (process.getuid?.() === 0) chownSync(root, uidOf("postgres"), -1);
  const args = Object.entries({ ...TEST_SETTINGS, ...settings })
    .flatMap(([name, value]) => ["-c", `${name}=${value}`]);
  let child;
  try {
    child = spawn(
      "sh",
      ["-c", SUPERVISOR, "tessera-pg", root, String(port), bin, ...args],
      {
        stdio: ["pipe", "pipe", "inherit"],
        // A fixed environment: the same server whatever the caller's (and no
        // need to read it, which bench:http may not).
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C.UTF-8" },
      },
    );
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  let buffered = "";
  const waiting: ((line: string) => void)[] = [];
  const lines: string[] = [];
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffered += chunk;
    let at;
    while ((at = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", resolve));
  exited.then(() => {
    for (const next of waiting.splice(0)) next("failed: supervisor exited");
  });
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (child.exitCode !== null) {
      return Promise.resolve("failed: supervisor exited");
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  // Neither the child nor its pipes keep the test process alive.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stdin as unknown as { unref?: () => void }).unref?.();

  const expect = async (what: string, want: string) => {
    const line = await withDeadline(nextLine(), "no answer in 60 s");
    if (line !== want) {
      throw new Error(`PostgreSQL on port ${port} did not ${what}: ${line}`);
    }
  };
  const command = async (name: string, want: string) => {
    child.stdin!.write(`${name}\n`);
    await expect(name, want);
  };
  try {
    await expect("start", "ready");
  } catch (error) {
    child.stdin!.end();
    throw error;
  }
  // At the end of the test file (Deno: the module's unload; Bun: exit),
  // close the pipe so that the supervisor stops the server. Nothing can be
  // awaited there, and nothing needs to be: the supervisor finishes alone.
  const hangUp = () => child.stdin!.destroy();
  globalThis.addEventListener?.("unload", hangUp);
  process.once("exit", hangUp);
  let closed: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: () => command("stop", "stopped"),
    crash: () => command("crash", "stopped"),
    start: () => command("start", "ready"),
    close: () =>
      closed ??= (async () => {
        child.stdin!.end();
        await withDeadline(exited, undefined);
      })(),
  };
}

/**
 * `promise`, or `late` after 60 s. The timer also keeps the event loop alive
 * while the unref'd child works: without it, a test that awaits only the
 * child would stall.
 */
async function withDeadline<T>(promise: Promise<T>, late: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(late), 60_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The temp dir; /tmp where reading TMPDIR is not permitted (bench:http). */
function tempRoot(): string {
  try {
    return tmpdir();
  } catch {
    return "/tmp";
  }
}

function uidOf(user: string): number {
  // /etc/passwd: name:x:uid:gid:...
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) =>
    l.startsWith(`${user}:`)
  );
  if (line === undefined) {
    throw new Error(
      `no "${user}" OS user to run PostgreSQL as (tests run as root; ` +
        "Debian's postgresql package creates it)",
    );
  }
  return Number(line.split(":")[2]);
}
