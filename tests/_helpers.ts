// Shared Deno test helpers: store fixtures, a counting store, gates. The
// runtime-neutral ones live in conformance/_util.ts (the Bun suite uses them
// too) and are re-exported here.
import type { SessionStore } from "../mod.ts";
import { kvStore, memoryStore } from "../mod.ts";

export {
  collect,
  CookieJar as Browser,
  type FaultDecision,
  faulty,
  type FaultyStore,
  parseSetCookie,
  type SetCookie,
  sha256,
  type StoredRecord,
  storedRecord,
} from "./conformance/_util.ts";

/** A store fixture: a fresh store and a way to dispose of it. */
export interface StoreFixture {
  name: string;
  open(): Promise<{ store: SessionStore; close(): void }>;
}

/** The stores every behaviour is checked against. */
export const STORES: StoreFixture[] = [
  {
    name: "kvStore(:memory:)",
    async open() {
      const kv = await Deno.openKv(":memory:");
      return { store: kvStore(kv), close: () => kv.close() };
    },
  },
  {
    name: "memoryStore()",
    open() {
      return Promise.resolve({ store: memoryStore(), close() {} });
    },
  },
];

/** A promise and its resolver. */
export interface Gate {
  promise: Promise<void>;
  open(): void;
}

/** A promise and its resolver, to hold a handler at a chosen point. */
export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

/** A real store wrapped to count what reaches it. */
export interface CountingStore extends SessionStore {
  reads: number;
  commits: StoreCommitLog[];
}

/** One commit as the wrapped store saw it. */
export interface StoreCommitLog {
  checks: number;
  sets: { key: readonly string[]; expireIn: number | undefined }[];
  deletes: (readonly string[])[];
}

/** Wraps a real store, counting reads and recording commits. */
export function counting(inner: SessionStore): CountingStore {
  const counted: CountingStore = {
    reads: 0,
    commits: [],
    maxValueBytes: inner.maxValueBytes,
    get(key) {
      counted.reads++;
      return inner.get(key);
    },
    commit(change) {
      counted.commits.push({
        checks: change.checks.length,
        sets: change.sets.map((s) => ({ key: s.key, expireIn: s.expireIn })),
        deletes: [...change.deletes],
      });
      return inner.commit(change);
    },
    list: (prefix) => inner.list(prefix),
  };
  return counted;
}

/** A server on a free 127.0.0.1 port, for tests that need a real connection. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly origin: string;
  readonly port: number;
  /** Stops it and waits until it has. */
  close(): Promise<void>;
}

/** Serves `handler` with `Deno.serve` on a free 127.0.0.1 port. */
export function serveLocal(
  handler: (request: Request) => Response | Promise<Response>,
): LocalServer {
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen() {},
  }, handler);
  const { port } = server.addr;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a child Deno process printed and how it ended. */
export interface ChildOutput {
  code: number;
  /** The signal that ended it (`"SIGKILL"` when it ran out of time). */
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno` with `args` in a child process, killed with SIGKILL if it has
 * not ended within `ms`: a test of a whole process (a script, a leak, a
 * timer that holds it open) cannot hang the suite.
 */
export async function runDeno(
  args: string[],
  ms: number,
): Promise<ChildOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    const { code, signal, stdout, stderr } = await child.output();
    const text = new TextDecoder();
    return {
      code,
      signal,
      stdout: text.decode(stdout),
      stderr: text.decode(stderr),
    };
  } finally {
    clearTimeout(killer);
  }
}
