/**
 * A {@link SessionStore} on Deno KV.
 *
 * @module
 */
import { retryPause } from "./_retry.ts";
import type {
  SessionStore,
  StoreCommit,
  StoreEntry,
  StoreKey,
} from "../store.ts";

/** The part of a Deno KV atomic operation that {@link kvStore} uses. */
export interface KvAtomicLike {
  /** Adds versionstamp checks. */
  check(
    ...checks: { key: StoreKey; versionstamp: string | null }[]
  ): KvAtomicLike;
  /** Adds a write. */
  set(
    key: StoreKey,
    value: Uint8Array,
    options?: { expireIn?: number },
  ): KvAtomicLike;
  /** Adds a delete. */
  delete(key: StoreKey): KvAtomicLike;
  /** Commits; `ok: false` when a check failed. */
  commit(): Promise<{ ok: boolean; versionstamp?: string }>;
}

/**
 * The part of the Deno KV API that {@link kvStore} uses. `Deno.Kv` and the
 * `@deno/kv` npm client both fit.
 */
export interface KvLike {
  /** Reads one key. */
  get(key: StoreKey): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Starts an atomic operation. */
  atomic(): KvAtomicLike;
  /** Lists the keys under a prefix. */
  list(
    selector: { prefix: StoreKey },
  ): AsyncIterable<
    { key: readonly unknown[]; value: unknown; versionstamp: string }
  >;
}

/** Options of {@link kvStore}. */
export interface KvStoreOptions {
  /**
   * Key parts put before every key tessera writes, so sessions can share a
   * database with other data.
   *
   * @default {["tessera"]}
   */
  prefix?: readonly string[];
  /**
   * How often an operation is tried when the database reports it is busy
   * ("database is locked": SQLite-backed KV shared by several processes).
   * Such an operation did not happen, so trying again is safe.
   *
   * @default {8}
   */
  busyAttempts?: number;
}

/** Deno KV refuses values over 64 KiB. */
const KV_MAX_VALUE_BYTES = 65_536;

/**
 * Stores sessions in Deno KV (or anything with its API, such as the
 * `@deno/kv` npm client). Values are JSON bytes, so Deno and Bun processes can
 * share one database; expiry uses KV's `expireIn` for garbage collection.
 *
 * @param kv An open `Deno.Kv` or a compatible client.
 * @param options The key prefix.
 * @returns A store for `withSession`'s `store` option.
 *
 * @example Sessions in a KV file
 * ```ts ignore
 * import { kvStore, withSession } from "@tessera/session";
 *
 * const store = kvStore(await Deno.openKv("sessions.db"));
 * Deno.serve(withSession(() => new Response("hi"), { store }));
 * ```
 */
export function kvStore(
  kv: KvLike,
  options: KvStoreOptions = {},
): SessionStore {
  if (
    typeof kv !== "object" || kv === null || typeof kv.get !== "function" ||
    typeof kv.atomic !== "function"
  ) {
    throw new TypeError(
      `kvStore() needs an open Deno KV (e.g. await Deno.openKv()), got ${
        String(kv)
      }`,
    );
  }
  const prefix = options.prefix ?? ["tessera"];
  if (
    !Array.isArray(prefix) || !prefix.every((part) => typeof part === "string")
  ) {
    throw new TypeError(
      `kvStore() prefix must be an array of strings, got ${String(prefix)}`,
    );
  }
  const busyAttempts = options.busyAttempts ?? 8;
  if (
    !Number.isSafeInteger(busyAttempts) || busyAttempts < 1 ||
    busyAttempts > 100
  ) {
    throw new RangeError(
      `kvStore() busyAttempts must be an integer from 1 to 100, got ${busyAttempts}`,
    );
  }
  const full = (key: StoreKey): string[] => [...prefix, ...key];
  const strip = (key: readonly unknown[]): StoreKey =>
    key.slice(prefix.length) as string[];

  return {
    maxValueBytes: KV_MAX_VALUE_BYTES,
    get(key: StoreKey): Promise<StoreEntry | null> {
      // `.then` on KV's own promise: no async wrapper, so a read costs no
      // promise steps beyond the one KV makes.
      return whileBusy(busyAttempts, () => kv.get(full(key)), (entry) => {
        if (
          entry.versionstamp === null || !(entry.value instanceof Uint8Array)
        ) {
          return entry.versionstamp === null ? null : {
            key,
            // A value tessera did not write: hand it on as empty bytes so the
            // caller sees a corrupt record, never a missing one.
            value: new Uint8Array(0),
            versionstamp: entry.versionstamp,
          };
        }
        return { key, value: entry.value, versionstamp: entry.versionstamp };
      });
    },
    commit(change: StoreCommit): Promise<string | null> {
      for (const set of change.sets) {
        // Deno KV refuses these itself; other clients (@deno/kv in memory)
        // may not, and the contract is the same for every store.
        if (set.value.byteLength > KV_MAX_VALUE_BYTES) {
          return Promise.reject(
            new RangeError(
              `Value of ${set.value.byteLength} bytes is over Deno KV's limit of ${KV_MAX_VALUE_BYTES} bytes`,
            ),
          );
        }
      }
      // A fresh atomic operation per attempt: a busy database applied nothing.
      return whileBusy(busyAttempts, () => {
        let op = kv.atomic();
        for (const check of change.checks) {
          op = op.check({
            key: full(check.key),
            versionstamp: check.versionstamp,
          });
        }
        for (const key of change.deletes) op = op.delete(full(key));
        for (const set of change.sets) {
          op = set.expireIn === undefined
            ? op.set(full(set.key), set.value)
            : op.set(full(set.key), set.value, { expireIn: set.expireIn });
        }
        return op.commit();
      }, (result) => result.ok ? result.versionstamp ?? "" : null);
    },
    async *list(keyPrefix: StoreKey): AsyncIterable<StoreEntry> {
      for await (const entry of kv.list({ prefix: full(keyPrefix) })) {
        const value = entry.value instanceof Uint8Array
          ? entry.value
          : new Uint8Array(0);
        yield {
          key: strip(entry.key),
          value,
          versionstamp: entry.versionstamp,
        };
      }
    },
  };
}

/** SQLite's "busy" answer: the operation was not applied. */
function isBusy(error: unknown): boolean {
  return error instanceof Error &&
    /database is locked|SQLITE_BUSY|database is busy/i.test(error.message);
}

/**
 * Runs `operation` and maps its answer with `done`, trying again with
 * jittered, growing pauses while the database is busy. One `.then` on the
 * operation's own promise: the retry machinery is reached only through a
 * rejection, so a call that succeeds costs no extra promise steps.
 */
function whileBusy<T, R>(
  attempts: number,
  operation: () => Promise<T>,
  done: (value: T) => R,
  attempt = 1,
): Promise<R> {
  let pending: Promise<T>;
  try {
    pending = operation();
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(done, (error) => {
    if (attempt >= attempts || !isBusy(error)) throw error;
    return retryPause(attempt).then(() =>
      whileBusy(attempts, operation, done, attempt + 1)
    );
  });
}
