// Shared test helpers: a browser-like cookie jar and store fixtures.
import type { SessionStore } from "../mod.ts";
import { kvStore, memoryStore } from "../mod.ts";

/** A fetch handler as withSession returns it. */
export type App = (request: Request) => Promise<Response>;

/** A parsed Set-Cookie line. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

/** Parses one Set-Cookie value (attribute names lowercased). */
export function parseSetCookie(line: string): SetCookie {
  const [pair = "", ...rest] = line.split(";");
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [k = "", v = ""] = part.trim().split("=");
    attributes.set(k.toLowerCase(), v);
  }
  return {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    attributes,
  };
}

/**
 * A browser in miniature: keeps cookies from responses and sends them back.
 * Secure cookies go only over https; plain ones go over both, as browsers do.
 */
export class Browser {
  readonly cookies = new Map<string, { value: string; secure: boolean }>();
  constructor(readonly app: App) {}

  /** The Cookie header this browser would send to `url`. */
  cookieHeader(url: string): string | undefined {
    const https = url.startsWith("https:");
    const pairs = [...this.cookies].filter(([, c]) => https || !c.secure).map((
      [n, c],
    ) => `${n}=${c.value}`);
    return pairs.length === 0 ? undefined : pairs.join("; ");
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie !== undefined) headers.set("cookie", cookie);
    const response = await this.app(new Request(url, { ...init, headers }));
    this.take(response);
    return response;
  }

  /** Fetches and returns the body text. */
  async text(url: string, init?: RequestInit): Promise<string> {
    return await (await this.fetch(url, init)).text();
  }

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const c = parseSetCookie(line);
      if (c.attributes.get("max-age") === "0") this.cookies.delete(c.name);
      else {this.cookies.set(c.name, {
          value: c.value,
          secure: c.attributes.has("secure"),
        });}
    }
  }
}

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

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A promise and its resolver, to hold a handler at a chosen point. */
export function gate(): { promise: Promise<void>; open(): void } {
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

/** SHA-256 of a token, base64url, computed independently of tessera. */
export async function sha256(token: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
  );
  return btoa(String.fromCharCode(...digest)).replaceAll("+", "-").replaceAll(
    "/",
    "_",
  )
    .replace(/=+$/, "");
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

/** The decoded record stored for a token, or null. */
export async function storedRecord(
  store: SessionStore,
  token: string,
): Promise<StoredRecord | null> {
  const entry = await store.get(["session", await sha256(token)]);
  return entry === null
    ? null
    : JSON.parse(new TextDecoder().decode(entry.value));
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
