// One request's access to its SessionStore: the keys, the timeouts and
// error wrapping of every read and commit, the encoding limit, and the
// deadlines a record and its index entry are written with.
import {
  decodeRecord,
  decodeRecordText,
  encodeRecordText,
  hasWrite,
  isExpired,
  type SessionRecord,
  type SessionState,
} from "./_record.ts";
import { decodeForward, decodeForwardText, type Forward } from "./_forward.ts";
import { isHttps } from "./_channel.ts";
import { bounded, storeFailure } from "./_timeout.ts";
import {
  immediate,
  oversize,
  type SideCommit,
  type SideEntry,
  type SideSet,
  type SideValue,
  takesText,
  textSide,
} from "./stores/_side.ts";
import { SessionTooLargeError } from "./errors.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type {
  SessionStore,
  StoreCheck,
  StoreEntry,
  StoreKey,
  StoreSet,
} from "./store.ts";

/** The store key of a session id. */
export function sessionKey(id: string): StoreKey {
  return ["session", id];
}

/**
 * The index entries of a user's sessions (`["user", user, id]`), read
 * through the store's prefix listing (never a scan of the sessions) within
 * `timeout` ms.
 */
export async function userIndexEntries(
  store: SessionStore,
  user: string,
  timeout: number,
): Promise<StoreEntry[]> {
  const collect = async () => {
    const entries: StoreEntry[] = [];
    for await (const entry of store.list(["user", user])) {
      if (entry.key.length === 3) entries.push(entry);
    }
    return entries;
  };
  return await bounded(
    collect,
    timeout,
    "read",
    "Could not read the user's sessions",
  );
}

/** The store key of a user's index entry for one of their sessions. */
export function userSessionKey(user: string, id: string): StoreKey {
  return ["user", user, id];
}

/** What an index entry holds: nothing but a marker; the session is the truth. */
export const INDEX_VALUE: Uint8Array = new TextEncoder().encode('{"v":1}');

/** What a record's deadlines are computed from. */
type Lifetime = Pick<SessionState, "created" | "life">;

/** A live record read from the store, with its versionstamp. */
export interface SessionFound {
  readonly record: SessionRecord;
  readonly versionstamp: string;
}

/** A live session reached from an id, and the id it was found under (a
 * renewed session's new id when the old one forwards to it). */
export interface Followed extends SessionFound {
  readonly id: string;
}

/** A read after a failed commit: `undefined` when it fails too (the commit's
 * error is the one to report). */
export async function quietly<T>(
  read: T | Promise<T>,
): Promise<T | undefined> {
  try {
    return await read;
  } catch {
    return undefined;
  }
}

/** Full jitter, capped: spreads retries of racing requests apart. */
export function backoff(attempt: number): Promise<void> {
  const cap = Math.min(100, 2 ** Math.min(attempt, 10));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}

const encoder = new TextEncoder();

/** `sets` with bytes only, for a store's public API. tessera hands text
 * only to a store with its own side ({@link StoreAccess.encode}), and
 * commits to such a store through that side, so this copies nothing in
 * practice; it keeps the public API to its types. */
function asBytes(sets: SideSet[]): StoreSet[] {
  if (sets.every((set) => typeof set.value !== "string")) {
    return sets as StoreSet[];
  }
  return sets.map((set) =>
    typeof set.value === "string"
      ? { ...set, value: encoder.encode(set.value) }
      : set as StoreSet
  );
}

/** What a public `get` answered, as bytes, as the contract says: anything
 * else a store hands out is no record (as before stores had sides), never
 * text to parse. */
function bytesOnly(entry: StoreEntry | null): StoreEntry | null {
  if (entry === null) return null;
  if (typeof entry !== "object") {
    // A store that breaks the contract fails like any store failure.
    throw storeFailure(
      new TypeError(`the store's get answered ${String(entry)}`),
      READ_FAILED,
    );
  }
  return entry.value instanceof Uint8Array
    ? entry
    : { ...entry, value: NO_BYTES };
}

const NO_BYTES = new Uint8Array(0);

/** The record in a value read through {@link StoreAccess}: text only ever
 * comes from a store's own side. */
export function recordOf(value: SideValue): SessionRecord | null {
  return typeof value === "string"
    ? decodeRecordText(value)
    : decodeRecord(value);
}

/** The forward in a value read through {@link StoreAccess}. */
export function forwardOf(value: SideValue): Forward | null {
  return typeof value === "string"
    ? decodeForwardText(value)
    : decodeForward(value);
}

const READ_FAILED = "Could not read the session";
const asIs = <T>(value: T): T => value;
const rethrow = (error: unknown): never => {
  throw error;
};
const COMMIT_FAILED = "Could not save the session";

/** The store as one request on one channel uses it. */
export class StoreAccess {
  readonly #options: ResolvedOptions;
  #https: boolean | undefined;
  /** Until its channel is known, or the request is answered. */
  #request: Request | undefined;
  #store: SessionStore | undefined;

  /** `channel`: whether the request came over HTTPS, or the request, to be
   * asked when first needed (`undefined`: an answered request's, never
   * asked). */
  constructor(
    options: ResolvedOptions,
    channel: boolean | Request | undefined,
  ) {
    this.#options = options;
    if (typeof channel === "boolean") this.#https = channel;
    else this.#request = channel;
  }

  /** Whether the request came over HTTPS: the channel its records are of. */
  get https(): boolean {
    if (this.#https === undefined) {
      if (this.#request === undefined) {
        throw new TypeError(
          "tessera: the channel of an answered request that never needed it was asked for",
        );
      }
      this.#https = isHttps(this.#request, this.#options);
      this.#request = undefined;
    }
    return this.#https;
  }

  /**
   * Lets go of the request once it is answered. The request's session is
   * the value of a WeakMap keyed by the request, and a value that refers
   * back to its key makes every garbage collection work through the cycle.
   * A session whose channel was never asked for has no id by now, and an
   * answered request cannot start one.
   */
  release(): void {
    this.#request = undefined;
  }

  /** The configured store, opened on first use. */
  store(): SessionStore | Promise<SessionStore> {
    if (this.#store !== undefined) return this.#store;
    const store = this.#options.store();
    if (store instanceof Promise) return store.then((s) => this.#store = s);
    return this.#store = store;
  }

  /** Whether a record belongs to this request's channel and carrier: an
   * HTTP session is not one over HTTPS, a bearer token not a cookie. */
  sameChannel(record: SessionRecord): boolean {
    return record.https === this.https &&
      record.bearer === (this.#options.carrier === "bearer");
  }

  /** Whether a stored record is a live session of this request's channel. */
  usable(record: SessionRecord): boolean {
    return this.sameChannel(record) && this.alive(record);
  }

  /** Whether a stored record is a live session, of either channel. */
  alive(record: SessionRecord): boolean {
    return !isExpired(
      record,
      Date.now(),
      this.#options.idleTimeout,
      this.#options.absoluteTimeout,
    );
  }

  /** A user's index entries, within `storeTimeout`. */
  userIndex(store: SessionStore, user: string): Promise<StoreEntry[]> {
    return userIndexEntries(store, user, this.#options.storeTimeout);
  }

  /** The entry under `key`, through the store's own side when it has one
   * (a record may then come as text). */
  get(store: SessionStore, key: StoreKey): Promise<SideEntry | null> {
    return Promise.resolve(this.getThen(store, key, asIs));
  }

  /**
   * The entry under `key` through `then`: at once, with no promise, on a
   * store in this process; on any other, in the step that settles the
   * call's deadline, not one after it (each promise step of a request
   * costs, on Bun measurably).
   */
  getThen<R>(
    store: SessionStore,
    key: StoreKey,
    then: (entry: SideEntry | null) => R,
  ): R | Promise<Awaited<R>> {
    const now = immediate(store);
    if (now !== undefined) {
      let entry: SideEntry | null;
      try {
        entry = now.get(key);
      } catch (error) {
        return Promise.reject(storeFailure(error, READ_FAILED));
      }
      return then(entry);
    }
    const side = textSide(store);
    if (side !== undefined) {
      return bounded(
        () => side.get(key),
        this.#options.storeTimeout,
        "read",
        READ_FAILED,
        then,
      );
    }
    // The bytes are checked in the step that settles the deadline: an async
    // wrapper around `store.get` cost a tessera read on Bun's @deno/kv two
    // more promise steps.
    return bounded(
      () => store.get(key),
      this.#options.storeTimeout,
      "read",
      READ_FAILED,
      (entry) => then(bytesOnly(entry)),
    );
  }

  /** {@link get}, answered without a promise by a store in this process. */
  getNow(
    store: SessionStore,
    key: StoreKey,
  ): SideEntry | null | Promise<SideEntry | null> {
    return this.getThen(store, key, asIs);
  }

  /** The live session under `key`, or `null`. */
  async read(
    store: SessionStore,
    key: StoreKey,
  ): Promise<SessionFound | null> {
    const entry = await this.getNow(store, key);
    if (entry === null) return null;
    const record = recordOf(entry.value);
    return record !== null && this.usable(record)
      ? { record, versionstamp: entry.versionstamp }
      : null;
  }

  /**
   * The live session under `id`, or the one a renewal forwarded `id` to
   * while its grace window lasts (one hop: a forward never points at a
   * forward), or `null`.
   */
  async follow(store: SessionStore, id: string): Promise<Followed | null> {
    const entry = await this.getNow(store, sessionKey(id));
    if (entry === null) return null;
    const record = recordOf(entry.value);
    if (record !== null) {
      return this.usable(record)
        ? { record, versionstamp: entry.versionstamp, id }
        : null;
    }
    const forward = forwardOf(entry.value);
    if (
      forward === null || forward.https !== this.https ||
      forward.until <= Date.now()
    ) return null;
    const target = await this.read(store, sessionKey(forward.to));
    return target && { ...target, id: forward.to };
  }

  /**
   * Commits a change that writes `key` as write `writeId`. When the store
   * reports a conflict or throws, the change may still have been applied
   * (a lost reply): then the record found under `key` is returned. `null`
   * is a real conflict; a real failure throws.
   */
  async commitOrFind(
    store: SessionStore,
    change: SideCommit,
    key: StoreKey,
    writeId: string,
  ): Promise<string | SessionFound | null> {
    const mine = async (): Promise<SessionFound | null> => {
      const fresh = await quietly(this.read(store, key));
      return fresh && hasWrite(fresh.record.writes, writeId) ? fresh : null;
    };
    let result: string | null;
    try {
      result = await this.commit(
        store,
        [...change.checks],
        [...change.sets],
        [...change.deletes],
      );
    } catch (error) {
      const found = await mine();
      if (found === null) throw error;
      return found;
    }
    return result ?? await mine();
  }

  /** Commits through the store's own side when it has one; a store
   * without is given bytes. */
  commit(
    store: SessionStore,
    checks: StoreCheck[],
    sets: SideSet[],
    deletes: StoreKey[],
  ): Promise<string | null> {
    return Promise.resolve(
      this.commitThen(store, checks, sets, deletes, asIs, rethrow),
    );
  }

  /**
   * Commits through `then` or, when the store fails, `otherwise` (given
   * the failure as callers catch it): at once on a store in this process;
   * on any other, in the step that settles the call's deadline.
   */
  commitThen<R>(
    store: SessionStore,
    checks: StoreCheck[],
    sets: SideSet[],
    deletes: StoreKey[],
    then: (versionstamp: string | null) => R,
    otherwise: (error: unknown) => R,
  ): R | Promise<Awaited<R>> {
    const now = immediate(store);
    if (now === undefined) {
      const side = textSide(store);
      return bounded(
        () =>
          side === undefined
            ? store.commit({ checks, sets: asBytes(sets), deletes })
            : side.commit({ checks, sets, deletes }),
        this.#options.storeTimeout,
        "commit",
        COMMIT_FAILED,
        then,
        otherwise,
      );
    }
    let versionstamp: string | null;
    try {
      versionstamp = now.commit({ checks, sets, deletes });
    } catch (error) {
      try {
        return otherwise(storeFailure(error, COMMIT_FAILED));
      } catch (failure) {
        return Promise.reject(failure);
      }
    }
    return then(versionstamp);
  }

  /** A record as `store` takes it: text for a store with its own side,
   * bytes for any other. */
  encode(store: SessionStore, state: SessionState): SideValue {
    const text = encodeRecordText(
      state,
      this.https,
      this.#options.limits,
      this.#options.carrier === "bearer",
    );
    const value = takesText(store) ? text : encoder.encode(text);
    const over = oversize(value, store.maxValueBytes);
    if (over !== undefined) {
      throw new SessionTooLargeError(over, store.maxValueBytes);
    }
    return value;
  }

  /** The index entry of a signed-in session, living until its hard end. */
  #indexSet(user: string, id: string, state: Lifetime, now: number): StoreSet {
    return {
      key: userSessionKey(user, id),
      value: INDEX_VALUE,
      expireIn: this.hardEnd(state, now),
    };
  }

  /**
   * The writes of a save or touch: the record, and for a signed-in session
   * its index entry again, so the entry lives as long as the session can
   * under the timeouts in force now (they may have grown since the login).
   * Guarded by the record's check, so a revoked session is not re-indexed.
   */
  saveSets(
    key: StoreKey,
    value: SideValue,
    state: SessionState,
    now: number,
  ): SideSet[] {
    const sets: SideSet[] = [{
      key,
      value,
      expireIn: this.expireIn(state, now),
    }];
    if (state.user !== null) {
      sets.push(this.#indexSet(state.user, key[1]!, state, now));
    }
    return sets;
  }

  /**
   * Garbage collection of a user's index entry: the session's hard end, not
   * its idle deadline, so the index may list more sessions than are live
   * (stale entries are removed when found), never fewer. Saves and touches
   * write the entry again with the hard end of the timeouts in force then.
   */
  hardEnd(state: Lifetime, now: number): number {
    return Math.max(
      1,
      state.created + (state.life ?? this.#options.absoluteTimeout) - now,
    );
  }

  /** How long a record written at `now` lives in the store: to its end,
   * and `expiredNotice` beyond so a late request learns it expired. */
  expireIn(state: Lifetime, now: number): number {
    // A session with a lifetime of its own (remember me) has no shorter
    // idle timeout: it lasts until its end unless it is ended.
    const end = this.hardEnd(state, now);
    return ((state.life ?? null) === null
      ? Math.min(this.#options.idleTimeout, end)
      : end) +
      this.#options.expiredNotice;
  }
}
