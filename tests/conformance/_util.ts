// Runtime-neutral test helpers for the shared suite: no Deno or Bun globals,
// only Web APIs and node: modules that both runtimes provide.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionStore, StoreCommit } from "../../mod.ts";

/** Registers one test with the runtime's runner (`Deno.test`, `bun:test`). */
export type Test = (name: string, fn: () => Promise<void>) => void;

/** A store under test, opened fresh for every test. */
export interface StoreFixture {
  /** Shown in test names. */
  readonly name: string;
  /** Opens an empty store. */
  open(): Promise<OpenedStore>;
}

/** An open store and its disposal. */
export interface OpenedStore {
  readonly store: SessionStore;
  close(): void | Promise<void>;
}

/** A running HTTP server on loopback. */
export interface Listener {
  /** The origin, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Serves a fetch handler on 127.0.0.1 with an OS-chosen port. */
export type Listen = (
  handler: (request: Request) => Response | Promise<Response>,
) => Promise<Listener>;

/** What a runtime provides to the shared suite. */
export interface Runtime {
  /** "Deno", "Bun". */
  readonly name: string;
  readonly test: Test;
  readonly stores: readonly StoreFixture[];
  readonly listen: Listen;
}

/** A fresh directory for KV files, and its removal. */
export function tempDir(prefix = "tessera-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** Runs `fn` with a fresh store from `fixture`, closing it afterwards. */
export async function withStore(
  fixture: StoreFixture,
  fn: (store: SessionStore) => Promise<void>,
): Promise<void> {
  const { store, close } = await fixture.open();
  try {
    await fn(store);
  } finally {
    await close();
  }
}

/** A parsed Set-Cookie line. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lowercased; flags map to "". */
  attributes: Map<string, string>;
}

/** Parses one Set-Cookie value. */
export function parseSetCookie(line: string): SetCookie {
  const [pair = "", ...rest] = line.split(";");
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf("=");
    const name = (at === -1 ? part : part.slice(0, at)).trim().toLowerCase();
    attributes.set(name, at === -1 ? "" : part.slice(at + 1).trim());
  }
  return {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    attributes,
  };
}

/** Something that answers requests: a handler, or `fetch` to a server. */
export type Fetcher = (request: Request) => Promise<Response>;

/**
 * A browser in miniature: keeps cookies from responses and sends them back,
 * Secure ones only over https, as browsers do. Cookies are kept per jar, not
 * per host, so one jar can talk to several servers of one site.
 */
export class CookieJar {
  readonly cookies = new Map<string, { value: string; secure: boolean }>();
  constructor(readonly fetcher: Fetcher) {}

  /** The Cookie header for `url`, or undefined. */
  header(url: string): string | undefined {
    const https = url.startsWith("https:");
    const pairs = [...this.cookies]
      .filter(([, c]) => https || !c.secure)
      .map(([name, c]) => `${name}=${c.value}`);
    return pairs.length === 0 ? undefined : pairs.join("; ");
  }

  /** Sends a request with this jar's cookies and keeps the response's. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie !== undefined) headers.set("cookie", cookie);
    const response = await this.fetcher(
      new Request(url, { redirect: "manual", ...init, headers }),
    );
    this.take(response);
    return response;
  }

  /** Fetches and returns the body text. */
  async text(url: string, init?: RequestInit): Promise<string> {
    return await (await this.fetch(url, init)).text();
  }

  /** Keeps the cookies a response sets, and drops those it clears. */
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const c = parseSetCookie(line);
      if (c.attributes.get("max-age") === "0") this.cookies.delete(c.name);
      else {
        this.cookies.set(c.name, {
          value: c.value,
          secure: c.attributes.has("secure"),
        });
      }
    }
  }

  /** The value of one cookie. */
  get(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }

  /** A second jar with a copy of this one's cookies (another tab). */
  clone(fetcher: Fetcher = this.fetcher): CookieJar {
    const jar = new CookieJar(fetcher);
    for (const [name, c] of this.cookies) jar.cookies.set(name, { ...c });
    return jar;
  }
}

/** `fetch` that does not follow redirects, as a {@link Fetcher}. */
export const network: Fetcher = (request) => fetch(request);

/** SHA-256 of a token, base64url, computed independently of tessera. */
export async function sha256(token: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
  );
  return btoa(String.fromCharCode(...digest))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A stored session record, as JSON. */
export interface StoredRecord {
  v: number;
  // deno-lint-ignore no-explicit-any
  data: Record<string, any>;
  created: number;
  seen: number;
  https: boolean;
  user: string | null;
}

/** The decoded record a store holds for a token, or null. */
export async function storedRecord(
  store: SessionStore,
  token: string,
): Promise<StoredRecord | null> {
  const entry = await store.get(["session", await sha256(token)]);
  return entry === null
    ? null
    : JSON.parse(new TextDecoder().decode(entry.value));
}

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * A barrier for `n` parties: `arrive()` resolves once all `n` have arrived,
 * or rejects after `ms` so that a broken test fails instead of hanging.
 */
export function barrier(n: number, ms = 5_000): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => release = resolve);
  return async () => {
    if (++arrived === n) release();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`barrier: ${arrived} of ${n} arrived`)),
        ms,
      );
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** What a fault hook decides for one call: pass it through, throw, or (for
 * commits) report a conflict without writing. */
export type FaultDecision = undefined | Error | "conflict";

/** A real store with faults injected on demand. */
export interface FaultyStore extends SessionStore {
  /** Called before each `get`; an Error is thrown instead of reading. */
  onGet: ((key: readonly string[]) => FaultDecision) | undefined;
  /** Called before each `commit`; an Error is thrown and `"conflict"`
   * answers `null`, in both cases without writing. */
  onCommit: ((change: StoreCommit) => FaultDecision) | undefined;
}

/** Wraps a real store so that tests can make its calls fail. */
export function faulty(inner: SessionStore): FaultyStore {
  const store: FaultyStore = {
    onGet: undefined,
    onCommit: undefined,
    maxValueBytes: inner.maxValueBytes,
    get(key) {
      const decision = store.onGet?.(key);
      if (decision instanceof Error) return Promise.reject(decision);
      return inner.get(key);
    },
    commit(change) {
      const decision = store.onCommit?.(change);
      if (decision instanceof Error) return Promise.reject(decision);
      if (decision === "conflict") return Promise.resolve(null);
      return inner.commit(change);
    },
    list: (prefix) => inner.list(prefix),
  };
  return store;
}

/** Wraps a store so that reads or commits fail while a flag is set. */
export function failing(inner: SessionStore): FaultyStore & {
  failReads: boolean;
  failCommits: boolean;
  reads: number;
} {
  const wrapped = Object.assign(faulty(inner), {
    failReads: false,
    failCommits: false,
    reads: 0,
  });
  wrapped.onGet = () => {
    wrapped.reads++;
    return wrapped.failReads ? new Error("store down (test)") : undefined;
  };
  wrapped.onCommit = () =>
    wrapped.failCommits ? new Error("store down (test)") : undefined;
  return wrapped;
}

/** How a {@link lossy} store misreports a commit it applied. */
export type LostReply = "conflict" | "error";

/** A real store whose applied commits are reported as failed, as a remote
 * client does when a reply is lost (its resend then fails its own check). */
export interface LossyStore extends SessionStore {
  /** How applied commits are reported; `undefined` reports them truly. */
  lose: LostReply | undefined;
  /** Runs after a commit was applied and before it is misreported. */
  afterApply: (() => Promise<void>) | undefined;
  /** Commits applied and then misreported. */
  lost: number;
}

/** Wraps a real store so that commits it applies can be reported as a
 * conflict (`null`) or as an error. */
export function lossy(inner: SessionStore): LossyStore {
  const store: LossyStore = {
    lose: undefined,
    afterApply: undefined,
    lost: 0,
    maxValueBytes: inner.maxValueBytes,
    get: (key) => inner.get(key),
    async commit(change) {
      const mode = store.lose;
      const result = await inner.commit(change);
      if (result === null || mode === undefined) return result;
      store.lost++;
      const after = store.afterApply;
      store.afterApply = undefined;
      await after?.();
      if (mode === "error") throw new Error("reply lost (test)");
      return null;
    },
    list: (prefix) => inner.list(prefix),
  };
  return store;
}
