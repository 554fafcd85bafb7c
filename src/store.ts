/**
 * The storage interface that sessions are saved through.
 *
 * A store is a small, versioned key-value map: every entry carries a
 * versionstamp, and a commit applies its writes only when every check still
 * holds. {@link kvStore} adapts Deno KV to it and {@link memoryStore} keeps the
 * same semantics in process; anything else (Redis, SQL) can implement it.
 *
 * @module
 */

/** A key in a {@link SessionStore}: a path of string parts. */
export type StoreKey = readonly string[];

/** One entry read from a {@link SessionStore}. */
export interface StoreEntry {
  /** The entry's key. */
  readonly key: StoreKey;
  /** The stored bytes (tessera stores JSON as UTF-8). */
  readonly value: Uint8Array;
  /** Changes on every write of the key; compared by {@link StoreCheck}. */
  readonly versionstamp: string;
}

/** A precondition of a {@link StoreCommit}. */
export interface StoreCheck {
  /** The key to check. */
  readonly key: StoreKey;
  /** The versionstamp the key must still have, or `null` for "absent". */
  readonly versionstamp: string | null;
}

/** One write of a {@link StoreCommit}. */
export interface StoreSet {
  /** The key to write. */
  readonly key: StoreKey;
  /** The bytes to store. */
  readonly value: Uint8Array;
  /**
   * Milliseconds after which the store may collect the entry. Garbage
   * collection only: tessera checks its own timeouts on every read.
   */
  readonly expireIn?: number;
}

/** An atomic change: all of `sets` and `deletes` happen only if every check holds. */
export interface StoreCommit {
  /** Preconditions; an empty list always holds. */
  readonly checks: readonly StoreCheck[];
  /** Keys to write. */
  readonly sets: readonly StoreSet[];
  /** Keys to delete. */
  readonly deletes: readonly StoreKey[];
}

/**
 * What tessera needs of a storage backend: versioned reads and atomic,
 * checked commits.
 *
 * Implementations must make `commit` atomic (all or nothing) and must give
 * every write of a key a new versionstamp. Errors are thrown, never reported
 * as "absent": tessera fails the request closed when a read throws.
 *
 * `memoryStore()` and `redisStore()` also answer tessera's request path
 * through a private side that takes a record as text. To observe or change
 * what reaches one of them, wrap it in a new object, as below: methods
 * replaced on the store object itself are not called by that path.
 *
 * @example Wrapping a store to count reads
 * ```ts
 * import { memoryStore, type SessionStore } from "@tessera/session";
 *
 * const inner = memoryStore();
 * let reads = 0;
 * const counted: SessionStore = {
 *   maxValueBytes: inner.maxValueBytes,
 *   get(key) {
 *     reads++;
 *     return inner.get(key);
 *   },
 *   commit: (change) => inner.commit(change),
 *   list: (prefix) => inner.list(prefix),
 * };
 * await counted.get(["session", "x"]);
 * console.log(reads); // 1
 * ```
 */
export interface SessionStore {
  /** The largest value, in bytes, that one entry may hold. */
  readonly maxValueBytes: number;
  /**
   * Reads one entry.
   *
   * @param key The key to read.
   * @returns The entry, or `null` when the key is absent or expired.
   */
  get(key: StoreKey): Promise<StoreEntry | null>;
  /**
   * Applies a change atomically if all its checks hold.
   *
   * @param change The checks, writes and deletes.
   * @returns The new versionstamp, or `null` when a check failed and nothing
   * was written.
   */
  commit(change: StoreCommit): Promise<string | null>;
  /**
   * Lists the live entries whose key starts with `prefix`.
   *
   * @param prefix The leading key parts.
   * @returns The entries, in key order.
   */
  list(prefix: StoreKey): AsyncIterable<StoreEntry>;
}
