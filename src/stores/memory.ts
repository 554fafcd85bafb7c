/**
 * A {@link SessionStore} in process memory.
 *
 * @module
 */
import type {
  SessionStore,
  StoreCommit,
  StoreEntry,
  StoreKey,
} from "../store.ts";

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The largest value one entry may hold, in bytes. Matches Deno KV so that
   * code tested on memory behaves the same on KV.
   *
   * @default {65536}
   */
  maxValueBytes?: number;
}

interface Slot {
  value: Uint8Array;
  versionstamp: string;
  expiresAt: number;
}

/** Entries looked at by the incremental sweep on each commit. */
const SWEEP_PER_COMMIT = 4;

/**
 * Keeps sessions in a `Map` in this process, with the same versioned,
 * atomic semantics as {@link kvStore}: for tests, single-process apps and
 * benchmarks. Sessions are lost when the process ends.
 *
 * Expired entries are collected without a timer: every commit sweeps a few
 * entries, so the map holds at most about 4/3 of the sessions written within
 * one idle timeout, however many are abandoned.
 *
 * @param options The value size limit.
 * @returns A store for `withSession`'s `store` option.
 *
 * @example Sessions in memory
 * ```ts
 * import { memoryStore, withSession } from "@tessera/session";
 *
 * const app = withSession(() => new Response("hi"), { store: memoryStore() });
 * const res = await app(new Request("http://localhost/"));
 * console.log(res.status); // 200
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const maxValueBytes = options.maxValueBytes ?? 65_536;
  if (!Number.isSafeInteger(maxValueBytes) || maxValueBytes <= 0) {
    throw new RangeError(
      `memoryStore() maxValueBytes must be a positive integer, got ${maxValueBytes}`,
    );
  }
  const slots = new Map<string, Slot>();
  // Descendants by each non-empty proper prefix, so listing a prefix such as
  // one user's sessions does not scan the whole map.
  const descendants = new Map<string, Set<string>>();
  let version = 0n;
  let sweep: Iterator<[string, Slot]> | undefined;

  function live(id: string, now: number): Slot | undefined {
    const slot = slots.get(id);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      remove(id);
      return undefined;
    }
    return slot;
  }

  function remove(id: string): void {
    if (!slots.delete(id)) return;
    for (const prefix of ancestors(id)) {
      const ids = descendants.get(prefix);
      ids?.delete(id);
      if (ids?.size === 0) descendants.delete(prefix);
    }
  }

  function sweepSome(now: number): void {
    for (let i = 0; i < SWEEP_PER_COMMIT; i++) {
      sweep ??= slots.entries();
      const next = sweep.next();
      if (next.done) {
        sweep = undefined;
        return;
      }
      if (next.value[1].expiresAt <= now) remove(next.value[0]);
    }
  }

  return {
    maxValueBytes,
    get(key: StoreKey): Promise<StoreEntry | null> {
      const slot = live(encode(key), Date.now());
      return Promise.resolve(
        slot === undefined
          ? null
          : { key, value: slot.value, versionstamp: slot.versionstamp },
      );
    },
    commit(change: StoreCommit): Promise<string | null> {
      const now = Date.now();
      for (const check of change.checks) {
        const slot = live(encode(check.key), now);
        if ((slot?.versionstamp ?? null) !== check.versionstamp) {
          return Promise.resolve(null);
        }
      }
      for (const set of change.sets) {
        if (set.value.byteLength > maxValueBytes) {
          return Promise.reject(
            new RangeError(
              `Value of ${set.value.byteLength} bytes is over the limit of ${maxValueBytes} bytes`,
            ),
          );
        }
      }
      version++;
      const versionstamp = version.toString(16).padStart(20, "0");
      for (const key of change.deletes) remove(encode(key));
      for (const set of change.sets) {
        const id = encode(set.key);
        // A copy, so a caller that reuses its buffer cannot change what is stored.
        slots.set(id, {
          value: set.value.slice(),
          versionstamp,
          expiresAt: set.expireIn === undefined ? Infinity : now + set.expireIn,
        });
        for (const prefix of ancestors(id)) {
          let ids = descendants.get(prefix);
          if (ids === undefined) descendants.set(prefix, ids = new Set());
          ids.add(id);
        }
      }
      sweepSome(now);
      return Promise.resolve(versionstamp);
    },
    async *list(prefix: StoreKey): AsyncIterable<StoreEntry> {
      const now = Date.now();
      const candidates = prefix.length === 0
        ? [...slots.keys()]
        : [...descendants.get(encode(prefix)) ?? []];
      // Decoded once each, not once per comparison.
      const keyed = candidates.map((id) => ({ id, key: decode(id) }));
      keyed.sort((a, b) => compareKeys(a.key, b.key));
      for (const { id, key } of keyed) {
        const slot = live(id, now);
        if (slot !== undefined) {
          yield { key, value: slot.value, versionstamp: slot.versionstamp };
        }
      }
    },
  };
}

// Keys as strings: each part as its length, ":" and itself. Injective, cheap
// to build on every request, and a prefix of keys is a prefix of strings.
function encode(key: StoreKey): string {
  let id = "";
  for (const part of key) id += `${part.length}:${part}`;
  return id;
}

/** The parts of an encoded key, in order. */
function parts(id: string): { part: string; end: number }[] {
  const out = [];
  let at = 0;
  while (at < id.length) {
    const colon = id.indexOf(":", at);
    const end = colon + 1 + Number(id.slice(at, colon));
    out.push({ part: id.slice(colon + 1, end), end });
    at = end;
  }
  return out;
}

function decode(id: string): string[] {
  return parts(id).map((p) => p.part);
}

/** The encoded non-empty proper prefixes of an encoded key. */
function ancestors(id: string): string[] {
  return parts(id).slice(0, -1).map((p) => id.slice(0, p.end));
}

function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return a.length - b.length;
}
