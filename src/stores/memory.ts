/**
 * A {@link SessionStore} in process memory.
 *
 * @module
 */
import { compareKeys } from "./_compare_keys.ts";
import {
  oversize,
  type SideCommit,
  type SideEntry,
  type SideSet,
  type SideValue,
  valueBytes,
  withSides,
} from "./_side.ts";
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
  /**
   * The most entries the store holds (sessions and index entries). A flood
   * of session-creating requests cannot grow the process past it: a commit
   * that needs room first evicts the sessions that no user is signed in to
   * (and any other entry that is not a user's index entry), oldest first
   * with a second chance: one read or written since it was queued is passed
   * over once, so a session in use goes after every unused one (among used
   * ones the order is their queueing, not their last use). Sessions of
   * signed-in users are never evicted. When only those are left, the commit
   * is refused (`withSession` answers 503) and nothing is lost. Roughly
   * 1 KiB per session.
   *
   * @default {100_000}
   */
  maxEntries?: number;
}

interface Slot {
  /** Its encoded key, for the sweep. */
  id: string;
  /** Bytes, or a record's text from tessera's own side (immutable: no
   * copy is needed to keep it from a caller). */
  value: SideValue;
  versionstamp: string;
  expiresAt: number;
  /** When a request last read or wrote it, on the store's clock of uses. */
  used: number;
}

/** Entries looked at by the incremental sweep on each commit. */
const SWEEP_PER_COMMIT = 4;
/** Entries looked at when a commit finds the store full. */
const SWEEP_WHEN_FULL = 1024;

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
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `memoryStore() maxEntries must be a positive integer, got ${maxEntries}`,
    );
  }
  const slots = new Map<string, Slot>();
  // Entries that may be evicted, each with the use at which it was queued,
  // least recently queued first (a Map keeps insertion order). A read or
  // write only marks its slot's `used`; eviction sends an entry used since
  // it was queued to the back once (a second chance) rather than every
  // request moving its key, two Map operations and garbage each time.
  // Sessions with a user's index entry are left out.
  const evictable = new Map<string, number>();
  let uses = 0;
  // Encoded session key → the index entries that point at it. A session in
  // here is signed in, so never evicted; when it is collected (expired or
  // evicted), so are they: an index entry outliving its session is garbage.
  const indexes = new Map<string, Set<string>>();
  // Descendants by each non-empty proper prefix, so listing a prefix such as
  // one user's sessions does not scan the whole map.
  const descendants = new Map<string, Set<string>>();
  // A number, not a BigInt: 2^53 commits is centuries at any real rate, and
  // number arithmetic allocates nothing.
  let version = 0;
  // Values, not entries: no [key, value] array per entry looked at.
  let sweep: Iterator<Slot> | undefined;

  function live(id: string, now: number): Slot | undefined {
    const slot = slots.get(id);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      collect(id);
      return undefined;
    }
    return slot;
  }

  /** Removes an entry that expired or was evicted, with its index entries. */
  function collect(id: string): void {
    const pointing = indexes.get(id);
    remove(id);
    if (pointing !== undefined) { for (const index of pointing) remove(index); }
  }

  function remove(id: string): void {
    evictable.delete(id);
    const session = indexedSession(id);
    if (session !== undefined) {
      const pointing = indexes.get(session);
      pointing?.delete(id);
      if (pointing?.size === 0) {
        indexes.delete(session);
        // No longer signed in: evictable again, if it is still there.
        if (slots.has(session)) evictable.set(session, uses);
      }
    }
    if (!slots.delete(id)) return;
    for (const prefix of ancestors(id)) {
      const ids = descendants.get(prefix);
      ids?.delete(id);
      if (ids?.size === 0) descendants.delete(prefix);
    }
  }

  function sweepSome(now: number, count: number): void {
    for (let i = 0; i < count; i++) {
      sweep ??= slots.values();
      const next = sweep.next();
      if (next.done) {
        sweep = undefined;
        return;
      }
      if (next.value.expiresAt <= now) collect(next.value.id);
    }
  }

  /**
   * Evicts `excess` entries, oldest unused first, sparing those the
   * commit itself writes or deletes; `false` when not enough can go.
   */
  function makeRoom(
    excess: number,
    isWritten: (id: string) => boolean,
    deleted: ReadonlySet<string>,
    now: number,
  ): boolean {
    // Expired entries go first, signed-in ones included; a longer sweep
    // than a commit's, still bounded, so a full store recovers by itself as
    // its sessions expire.
    const before = slots.size;
    sweepSome(now, SWEEP_WHEN_FULL);
    excess -= before - slots.size;
    if (excess <= 0) return true;
    const victims: string[] = [];
    // A Map's iteration visits entries appended during it: a requeued entry
    // comes round again, unused since, so the scan ends.
    for (const [id, queued] of evictable) {
      if (victims.length === excess) break;
      const used = slots.get(id)?.used ?? queued;
      if (used > queued) {
        evictable.delete(id);
        evictable.set(id, used);
      } else if (!isWritten(id) && !deleted.has(id)) victims.push(id);
    }
    if (victims.length < excess) return false;
    for (const id of victims) collect(id);
    return true;
  }

  /** Reads an entry; its value is the stored one, not a copy. */
  function read(key: StoreKey): SideEntry | null {
    const id = encode(key);
    const slot = live(id, Date.now());
    if (slot === undefined) return null;
    // A session being read is in use: among the last to be evicted.
    slot.used = ++uses;
    return { key, value: slot.value, versionstamp: slot.versionstamp };
  }

  /** Applies a change; `copy`: the caller may reuse its buffers. Throws
   * what the public commit rejects with. */
  function apply(change: SideCommit, copy: boolean): string | null {
    const now = Date.now();
    if (isSave(change)) {
      const done = applySave(change.checks[0]!, change.sets[0]!, now, copy);
      if (done !== undefined) return done;
    }
    const checkIds = change.checks.map((check) => encode(check.key));
    for (let i = 0; i < checkIds.length; i++) {
      const slot = live(checkIds[i]!, now);
      if ((slot?.versionstamp ?? null) !== change.checks[i]!.versionstamp) {
        return null;
      }
    }
    for (const set of change.sets) checkSize(set.value);
    // A save checks and writes the same key (one array): encoded once.
    const setIds = change.sets.map((set) => {
      const checked = change.checks.findIndex((c) => c.key === set.key);
      return checked === -1 ? encode(set.key) : checkIds[checked]!;
    });
    const deleteIds = change.deletes.length === 0
      ? NO_IDS
      : change.deletes.map(encode);
    // An expired entry the commit writes or deletes goes first (no reader
    // sees it anyway): counted as present, it would be counted twice, once
    // as not new and once as room the sweep below makes.
    for (const id of setIds) live(id, now);
    for (const id of deleteIds) live(id, now);
    // The size after this commit; room is made before anything is applied,
    // so a refused commit changes nothing.
    let after = slots.size;
    // The common commit writes one key and deletes none: no Sets for it.
    const writtenSet = setIds.length === 1 ? undefined : new Set(setIds);
    const isWritten = (id: string): boolean =>
      writtenSet === undefined ? id === setIds[0] : writtenSet.has(id);
    for (const id of deleteIds.length < 2 ? deleteIds : new Set(deleteIds)) {
      if (!isWritten(id) && slots.has(id)) after--;
    }
    for (const id of writtenSet ?? setIds) if (!slots.has(id)) after++;
    if (
      after > maxEntries &&
      !makeRoom(after - maxEntries, isWritten, new Set(deleteIds), now)
    ) {
      throw new RangeError(
        `memoryStore() is full: ${slots.size} entries of maxEntries ${maxEntries}, all of them signed-in sessions or their index entries`,
      );
    }
    for (const id of deleteIds) remove(id);
    const versionstamp = String(++version);
    for (let i = 0; i < setIds.length; i++) {
      write(setIds[i]!, change.sets[i]!, versionstamp, now, copy);
    }
    sweepSome(now, SWEEP_PER_COMMIT);
    return versionstamp;
  }

  /**
   * A save of one existing session (one check, one set of the same key):
   * the common commit, without the general path's arrays. `undefined` when
   * it needs the general path (a new entry: the store may be full).
   */
  function applySave(
    check: SideCommit["checks"][number],
    set: SideSet,
    now: number,
    copy: boolean,
  ): string | null | undefined {
    const id = encode(set.key);
    const slot = live(id, now);
    if ((slot?.versionstamp ?? null) !== check.versionstamp) return null;
    if (slot === undefined) return undefined;
    checkSize(set.value);
    const versionstamp = String(++version);
    write(id, set, versionstamp, now, copy);
    sweepSome(now, SWEEP_PER_COMMIT);
    return versionstamp;
  }

  function checkSize(value: SideValue): void {
    const over = oversize(value, maxValueBytes);
    if (over !== undefined) {
      throw new RangeError(
        `Value of ${over} bytes is over the limit of ${maxValueBytes} bytes`,
      );
    }
  }

  /** Stores one set of a commit that has been checked and has room. */
  function write(
    id: string,
    set: SideSet,
    versionstamp: string,
    now: number,
    copy: boolean,
  ): void {
    const used = ++uses;
    const session = indexedSession(id);
    if (session !== undefined) {
      let pointing = indexes.get(session);
      if (pointing === undefined) {
        indexes.set(session, pointing = new Set());
      }
      pointing.add(id);
      evictable.delete(session);
    } else if (!indexes.has(id) && !evictable.has(id)) {
      // Queued at the write that stores it: not used since.
      evictable.set(id, used);
    }
    const { value } = set;
    // A copy, so a caller that reuses its buffer cannot change what is
    // stored; text cannot be changed.
    const stored = copy && typeof value !== "string" ? value.slice() : value;
    const expiresAt = set.expireIn === undefined
      ? Infinity
      : now + set.expireIn;
    const slot = slots.get(id);
    if (slot !== undefined) {
      // Changed in place, not replaced: no slot is handed out (reads copy
      // its fields), and most writes are saves of a stored session, so
      // this spares one object per save. An id already stored is already
      // under each of its prefixes.
      slot.value = stored;
      slot.versionstamp = versionstamp;
      slot.expiresAt = expiresAt;
      slot.used = used;
    } else {
      slots.set(id, { id, value: stored, versionstamp, expiresAt, used });
      for (const prefix of ancestors(id)) {
        let ids = descendants.get(prefix);
        if (ids === undefined) descendants.set(prefix, ids = new Set());
        ids.add(id);
      }
    }
  }

  const store: SessionStore = {
    maxValueBytes,
    get(key: StoreKey): Promise<StoreEntry | null> {
      const entry = read(key);
      // A copy, so a caller that changes the bytes cannot change the store.
      return Promise.resolve(
        entry === null ? null : { ...entry, value: bytesOf(entry.value) },
      );
    },
    commit(change: StoreCommit): Promise<string | null> {
      try {
        return Promise.resolve(apply(change, true));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async *list(prefix: StoreKey): AsyncIterable<StoreEntry> {
      const now = Date.now();
      const candidates = prefix.length === 0
        ? [...slots.keys()]
        : [...descendants.get(encodePrefix(prefix)) ?? []];
      // Decoded once each, not once per comparison.
      const keyed = candidates.map((id) => ({ id, key: decode(id) }));
      keyed.sort((a, b) => compareKeys(a.key, b.key));
      for (const { id, key } of keyed) {
        const slot = live(id, now);
        if (slot !== undefined) {
          yield {
            key,
            value: bytesOf(slot.value),
            versionstamp: slot.versionstamp,
          };
        }
      }
    },
  };
  return withSides(store, {
    immediate: { get: read, commit: (change) => apply(change, false) },
  });
}

const NO_IDS: readonly string[] = [];

/** A stored value as the public API hands it out: bytes of its own. */
function bytesOf(value: SideValue): Uint8Array {
  return typeof value === "string" ? valueBytes(value) : value.slice();
}

/** Whether a commit is the save of one key: checked, then written. */
function isSave(change: SideCommit): boolean {
  return change.checks.length === 1 && change.sets.length === 1 &&
    change.deletes.length === 0 &&
    change.sets[0]!.key === change.checks[0]!.key;
}

/**
 * For a user's index entry (`["user", user, id]`), the encoded key of the
 * session it points at; `undefined` for any other key.
 */
function indexedSession(id: string): string | undefined {
  if (!id.startsWith("4:user")) return undefined;
  const key = decode(id);
  return key.length === 3 ? encode(["session", key[2]!]) : undefined;
}

// Keys as strings: each part as its length, ":" and itself. Injective, cheap
// to build on every request, and a prefix of keys is a prefix of strings.
// A session's key, looked up on every request, is kept under its id itself
// (which holds no ":", so no other key encodes to it): a string built by
// concatenation would be flattened and hashed on each lookup, while the id
// is the one string the request already holds, its hash computed once.
function encode(key: StoreKey): string {
  if (key.length === 2 && key[0] === "session" && isBare(key[1]!)) {
    return key[1]!;
  }
  return encodePrefix(key);
}

const isBare = (part: string): boolean =>
  part.length > 0 && !part.includes(":");

/** The general encoding, of a prefix or of a key that is not bare. */
function encodePrefix(key: StoreKey): string {
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
  return isBare(id) ? ["session", id] : parts(id).map((p) => p.part);
}

/** The encoded non-empty proper prefixes of an encoded key. */
function ancestors(id: string): string[] {
  return isBare(id)
    ? [SESSION_PREFIX]
    : parts(id).slice(0, -1).map((p) => id.slice(0, p.end));
}

const SESSION_PREFIX = encodePrefix(["session"]);
