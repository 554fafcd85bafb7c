/**
 * The per-request session object.
 *
 * @module
 */
import {
  clearCookie,
  type CookieAttributes,
  findCookie,
  setCookie,
} from "./_cookie.ts";
import { assertJson } from "./_json.ts";
import {
  decodeRecord,
  encodeRecord,
  isExpired,
  newWriteId,
  type SessionRecord,
  type SessionState,
  withWrite,
} from "./_record.ts";
import { isWellFormedToken, newToken, tokenId } from "./_token.ts";
import { checkUserId } from "./_user_id.ts";
import {
  MissingSessionValueError,
  SessionConflictError,
  SessionStoreError,
  SessionStoreTimeoutError,
  SessionTooLargeError,
} from "./errors.ts";
import { withTimeout } from "./_timeout.ts";
import type { ResolvedOptions } from "./options.ts";
import type {
  SessionStore,
  StoreCheck,
  StoreCommit,
  StoreEntry,
  StoreKey,
  StoreSet,
} from "./store.ts";

/**
 * The session of one request. Values are read synchronously from what was
 * loaded before the handler ran; changes are saved with a compare-and-swap
 * after the handler returns, before the response is sent.
 *
 * @typeParam T The shape of the session's values.
 *
 * @example Counting visits
 * ```ts
 * import { getSession, memoryStore, withSession } from "@tessera/session";
 *
 * const app = withSession((req) => {
 *   const session = getSession<{ visits: number }>(req);
 *   const visits = session.update("visits", (n = 0) => n + 1);
 *   return new Response(`visit ${visits}`);
 * }, { store: memoryStore() });
 *
 * const res = await app(new Request("http://localhost/"));
 * console.log(await res.text()); // "visit 1"
 * ```
 */
export interface Session<T extends object = Record<string, unknown>> {
  /**
   * Reads a value.
   *
   * @param key The key.
   * @returns The value, or `undefined` when the key is missing.
   */
  get<K extends keyof T & string>(key: K): T[K] | undefined;
  /**
   * Reads a value that must be there.
   *
   * @param key The key.
   * @returns The value.
   * @throws {MissingSessionValueError} when the key is missing.
   */
  require<K extends keyof T & string>(key: K): T[K];
  /**
   * Stores a JSON value. The first stored value creates the session.
   *
   * @param key The key.
   * @param value Any JSON value: strings, finite numbers, booleans, null,
   * arrays and plain objects.
   * @throws {TypeError} naming the path of a part that is not JSON.
   */
  set<K extends keyof T & string>(key: K, value: T[K]): void;
  /**
   * Whether a key holds a value.
   *
   * @param key The key.
   * @returns `true` when the key is present.
   */
  has(key: keyof T & string): boolean;
  /**
   * Removes a value.
   *
   * @param key The key.
   * @returns `true` when there was a value to remove.
   */
  delete(key: keyof T & string): boolean;
  /**
   * The keys that hold values.
   *
   * @returns The keys, in insertion order.
   */
  keys(): (keyof T & string)[];
  /** Removes every value (the session itself, its token and user, remain). */
  clear(): void;
  /**
   * Replaces a value with `fn(current)`. If a concurrent request changed the
   * session, `fn` runs again on the newer value, so updates compose:
   * N parallel increments add N.
   *
   * @param key The key.
   * @param fn A pure function from the current value (or `undefined`) to the
   * new one; it may run more than once.
   * @returns The new value.
   */
  update<K extends keyof T & string>(
    key: K,
    fn: (current: T[K] | undefined) => T[K],
  ): T[K];
  /**
   * Declares that values were changed in place. Optional: tessera compares
   * the values it handed out at save time, so this only forces the save.
   */
  markChanged(): void;
  /** `true` when the request came without a stored session. */
  readonly isNew: boolean;
  /** The user bound by {@link Session.login}, or `null`. */
  readonly userId: string | null;
  /**
   * Binds a user: a new token, and every value erased except
   * `persistentFieldsOnLogin`. Saved before the promise resolves.
   *
   * @param userId The user's id.
   * @param metadata JSON the application records about this login (e.g. a
   * device summary), shown by `listSessions`.
   * @returns When the new session is stored.
   */
  login(userId: string, metadata?: Record<string, unknown>): Promise<void>;
  /**
   * Unbinds the user: a new token keeping only `persistentFieldsOnLogout`,
   * or no session at all when none of them is set.
   *
   * @returns When the change is stored.
   */
  logout(): Promise<void>;
  /**
   * Issues a new token for the same data and user, deleting the old one.
   *
   * @returns When the change is stored.
   */
  regenerate(): Promise<void>;
  /**
   * Deletes the session and clears its cookie. A value stored afterwards
   * starts a new session.
   *
   * @returns When the session is deleted.
   */
  destroy(): Promise<void>;
  /**
   * An opaque id of the stored session (not its token), for `listSessions`
   * and `revokeSession`; `null` until the session is stored.
   */
  readonly id: string | null;
  /**
   * The session's CSRF token, created (and stored) on first use and replaced
   * on login, logout and regenerate. Put it in forms as the `_csrf` field or
   * send it as the `x-csrf-token` header; `withSession(h, { csrf: true })`
   * checks it. For a visitor without a stored session, with `csrf` on (and
   * `anonymous: "same-origin"`, the default), the token is not a reason to
   * store one: the session is created only if something else is stored, and
   * then keeps this token.
   *
   * @returns The token.
   */
  csrfToken(): string;
  /**
   * Stores a value for the next request that takes it (a message after a
   * redirect).
   *
   * @param key The message's name.
   * @param value Any JSON value.
   */
  flash(key: string, value: unknown): void;
  /**
   * Reads a flash value and removes it, so it is shown once.
   *
   * @typeParam V The value's type.
   * @param key The message's name.
   * @returns The value, or `undefined` when there is none.
   */
  takeFlash<V = unknown>(key: string): V | undefined;
}

type Operation =
  | { readonly kind: "set"; readonly key: string; readonly value: unknown }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "clear" }
  | {
    readonly kind: "update";
    readonly key: string;
    readonly fn: (value: unknown) => unknown;
  }
  | { readonly kind: "flash"; readonly key: string; readonly value: unknown }
  | { readonly kind: "takeFlash"; readonly key: string }
  | { readonly kind: "csrf"; readonly value: string };

interface Handed {
  readonly value: object;
  readonly json: string;
}

interface Rotation {
  /** Values kept (`null`: all of them). */
  readonly keep: readonly string[] | null;
  /** The user to bind; `undefined` keeps the current one. */
  readonly user: string | null | undefined;
  /** Login metadata to record; `undefined` keeps the current one. */
  readonly meta: Record<string, unknown> | null | undefined;
}

/** A live record read from the store, with its versionstamp. */
interface SessionFound {
  readonly record: SessionRecord;
  readonly versionstamp: string;
}

/** The store key of a session id. */
export function sessionKey(id: string): StoreKey {
  return ["session", id];
}

/** The store key of a user's index entry for one of their sessions. */
export function userSessionKey(user: string, id: string): StoreKey {
  return ["user", user, id];
}

/** What an index entry holds: nothing but a marker; the session is the truth. */
export const INDEX_VALUE: Uint8Array = new TextEncoder().encode('{"v":1}');

function emptyState(now: number): SessionState {
  return {
    data: new Map(),
    flash: new Map(),
    created: now,
    seen: now,
    user: null,
    csrf: null,
    meta: null,
    writes: [],
  };
}

function worthStoring(state: SessionState): boolean {
  return state.data.size > 0 || state.flash.size > 0 || state.user !== null ||
    state.csrf !== null;
}

/**
 * One request's session: what was loaded, what the handler did, and how to
 * save it. Created and driven by `withSession`.
 */
export class RequestSession implements Session<Record<string, unknown>> {
  readonly #options: ResolvedOptions;
  readonly #https: boolean;
  readonly #cookieName: string;
  #store: SessionStore | undefined;
  /** Token the browser presented and that loaded a session, if any. */
  #presented: string | null = null;
  #token: string | null = null;
  #id: string | null = null;
  #versionstamp: string | null = null;
  #state: SessionState = emptyState(0);
  #ops: Operation[] = [];
  #handed: Map<string, Handed> | undefined;
  #forced = false;
  #isNew = true;
  #cleared = false;
  #wrote = false;
  #used = false;
  /** An expired or unreadable record found under the presented token. */
  #stale: StoreCheck | undefined;
  /** Plain-HTTP token presented over HTTPS, to be erased. */
  #downgraded: string | undefined;
  #erasedHttp = false;
  /** A CSRF token handed out without a session, not a reason to create one. */
  #csrfUnstored = false;
  /** The session ended with no new one in its place (destroy, full logout). */
  #ended = false;

  constructor(options: ResolvedOptions, https: boolean) {
    this.#options = options;
    this.#https = https;
    this.#cookieName = https ? options.httpsCookie : options.httpCookie;
  }

  /**
   * Reads the session named by the request's cookie. Returns `undefined`
   * (no promise, no store access) when the request names none.
   */
  load(cookieHeader: string | null): Promise<void> | undefined {
    if (cookieHeader === null) return undefined;
    const found = findCookie(cookieHeader, this.#cookieName);
    if (this.#https) {
      const plain = findCookie(cookieHeader, this.#options.httpCookie);
      if (plain.kind === "one" && isWellFormedToken(plain.value)) {
        this.#downgraded = plain.value;
      }
    }
    if (found.kind !== "one" || !isWellFormedToken(found.value)) {
      return undefined;
    }
    if (!this.#https && this.#options.httpsOnly) return undefined;
    return this.#load(found.value);
  }

  async #load(token: string): Promise<void> {
    const store = await this.#getStore();
    const id = tokenId(token);
    const key = sessionKey(id);
    const entry = await this.#get(store, key);
    if (entry === null) return;
    const record = decodeRecord(entry.value);
    if (record === null || !this.#usable(record)) {
      // A record on the other channel is not ours to remove; anything else
      // under this token is dead.
      if (record === null || record.https === this.#https) {
        this.#stale = { key, versionstamp: entry.versionstamp };
      }
      return;
    }
    this.#presented = token;
    this.#token = token;
    this.#id = id;
    this.#versionstamp = entry.versionstamp;
    this.#state = record;
    this.#isNew = false;
  }

  // ---- the public API ----

  get isNew(): boolean {
    return this.#isNew;
  }

  get userId(): string | null {
    return this.#state.user;
  }

  get id(): string | null {
    return this.#id;
  }

  get(key: string): unknown {
    this.#used = true;
    const value = this.#state.data.get(key);
    if (typeof value === "object" && value !== null) this.#hand(key, value);
    return value;
  }

  require(key: string): unknown {
    this.#used = true;
    if (!this.#state.data.has(key)) throw new MissingSessionValueError(key);
    return this.get(key);
  }

  set(key: string, value: unknown): void {
    this.#writable(key);
    assertJson(value, key);
    this.#state.data.set(key, value);
    this.#ops.push({ kind: "set", key, value });
  }

  has(key: string): boolean {
    this.#used = true;
    return this.#state.data.has(key);
  }

  delete(key: string): boolean {
    this.#writable(key);
    if (!this.#state.data.has(key)) return false;
    this.#state.data.delete(key);
    this.#ops.push({ kind: "delete", key });
    return true;
  }

  keys(): string[] {
    this.#used = true;
    return [...this.#state.data.keys()];
  }

  clear(): void {
    this.#writable("");
    if (this.#state.data.size === 0) return;
    this.#state.data.clear();
    this.#ops.push({ kind: "clear" });
  }

  update(key: string, fn: (current: unknown) => unknown): unknown {
    this.#writable(key);
    if (typeof fn !== "function") {
      throw new TypeError(
        `update("${key}") needs a function, got ${String(fn)}`,
      );
    }
    const value = fn(this.#state.data.get(key));
    assertJson(value, key);
    this.#state.data.set(key, value);
    this.#ops.push({ kind: "update", key, fn });
    return value;
  }

  markChanged(): void {
    this.#forced = true;
  }

  csrfToken(): string {
    if (this.#state.csrf === null) {
      const value = newToken();
      this.#state.csrf = value;
      if (
        this.#id === null && this.#options.csrf?.anonymous === "same-origin"
      ) {
        // No session to keep it in: the check lets a token-less request
        // through on Fetch Metadata / Origin, so a visitor shown a form is
        // not stored. The token is kept if the session is created anyway.
        this.#csrfUnstored = true;
      } else {
        this.#writable("csrf token");
        this.#ops.push({ kind: "csrf", value });
      }
    }
    this.#used = true;
    return this.#state.csrf;
  }

  flash(key: string, value: unknown): void {
    this.#writable(key);
    assertJson(value, key);
    this.#state.flash.set(key, value);
    this.#ops.push({ kind: "flash", key, value });
  }

  takeFlash<V = unknown>(key: string): V | undefined {
    this.#used = true;
    if (!this.#state.flash.has(key)) return undefined;
    const value = this.#state.flash.get(key);
    this.#state.flash.delete(key);
    this.#ops.push({ kind: "takeFlash", key });
    return value as V;
  }

  async login(
    userId: string,
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    checkUserId(userId, "login()");
    if (metadata !== undefined) {
      if (
        typeof metadata !== "object" || metadata === null ||
        Array.isArray(metadata)
      ) {
        throw new TypeError(
          `login() metadata must be a plain object, got ${String(metadata)}`,
        );
      }
      assertJson(metadata, "metadata");
    }
    this.#writable("");
    await this.#rotate({
      keep: this.#options.persistentFieldsOnLogin,
      user: userId,
      meta: metadata === undefined
        ? null
        : clone(metadata) as Record<string, unknown>,
    });
  }

  async logout(): Promise<void> {
    this.#writable("");
    await this.#rotate({
      keep: this.#options.persistentFieldsOnLogout,
      user: null,
      meta: null,
    });
  }

  async regenerate(): Promise<void> {
    this.#writable("");
    await this.#rotate({ keep: null, user: undefined, meta: undefined });
  }

  async destroy(): Promise<void> {
    this.#used = true;
    const store = await this.#getStore();
    if (this.#id !== null) {
      const deletes = [sessionKey(this.#id)];
      if (this.#state.user !== null) {
        deletes.push(userSessionKey(this.#state.user, this.#id));
      }
      // A delete the store did not confirm throws before anything is
      // forgotten: the cookie stays, so the response cannot claim a
      // sign-out that did not happen, and the app can say so or retry.
      // Unless it was applied and its reply lost: then the session is gone,
      // as asked.
      const key = deletes[0]!;
      await this.#commit(store, [], [], deletes).catch(async (error) => {
        if (await quietly(this.#get(store, key)) !== null) throw error;
      });
      this.#reset();
      this.#cleared = true;
      this.#ended = true;
      return;
    }
    this.#reset();
    this.#cleared = true;
    this.#ended = true;
  }

  // ---- driven by withSession ----

  /** The stored CSRF token, without creating one. */
  get storedCsrfToken(): string | null {
    return this.#state.csrf;
  }

  /**
   * Saves what the handler changed, or refreshes the last-seen time.
   * Returns `undefined` when there is nothing to store.
   */
  save(): Promise<void> | undefined {
    const inPlace = this.#changedInPlace();
    const write = this.#ops.length > 0 || inPlace.length > 0 || this.#forced;
    const touch = !write && this.#id !== null &&
      Date.now() - this.#state.seen >= this.#options.touchInterval;
    if (
      !write && !touch && this.#stale === undefined &&
      this.#downgraded === undefined
    ) {
      return undefined; // the common read-only request: no promise at all
    }
    return this.#save(write, touch, inPlace);
  }

  async #save(
    write: boolean,
    touch: boolean,
    inPlace: readonly string[],
  ): Promise<void> {
    if (write) await this.#write(inPlace);
    else if (touch) await this.#touch();
    if (this.#stale !== undefined) await this.#removeStale();
    if (this.#downgraded !== undefined) {
      await this.#eraseDowngraded(this.#downgraded);
    }
  }

  /** The `Set-Cookie` values the response needs. */
  cookies(): string[] {
    const out: string[] = [];
    const attributes: CookieAttributes = {
      secure: this.#https,
      sameSite: this.#options.sameSite,
    };
    if (
      this.#token !== null &&
      (this.#token !== this.#presented ||
        (this.#wrote && this.#options.cookieMaxAge !== undefined))
    ) {
      out.push(
        setCookie(
          this.#cookieName,
          this.#token,
          attributes,
          this.#maxAgeSeconds(),
        ),
      );
    } else if (
      this.#token === null && this.#cleared && this.#presented !== null
    ) {
      out.push(clearCookie(this.#cookieName, attributes));
    }
    if (this.#erasedHttp) {
      out.push(
        clearCookie(this.#options.httpCookie, {
          secure: false,
          sameSite: this.#options.sameSite,
        }),
      );
    }
    return out;
  }

  /** Whether this request ended its session without starting another. */
  get ended(): boolean {
    return this.#ended && this.#token === null;
  }

  /** Whether the response depends on the session cookie. */
  get used(): boolean {
    return this.#used || this.#presented !== null;
  }

  // ---- internals ----

  #maxAgeSeconds(): number | undefined {
    const age = this.#options.cookieMaxAge;
    return age === undefined ? undefined : Math.floor(age / 1000);
  }

  #writable(key: string): void {
    this.#used = true;
    if (!this.#https && this.#options.httpsOnly) {
      throw new TypeError(
        `Cannot store "${key}": httpsOnly is set and this request came over plain HTTP`,
      );
    }
  }

  #getStore(): SessionStore | Promise<SessionStore> {
    if (this.#store !== undefined) return this.#store;
    const store = this.#options.store();
    if (store instanceof Promise) return store.then((s) => this.#store = s);
    return this.#store = store;
  }

  /** Whether a stored record is a live session of this request's channel. */
  #usable(record: SessionRecord): boolean {
    return record.https === this.#https &&
      !isExpired(
        record,
        Date.now(),
        this.#options.idleTimeout,
        this.#options.absoluteTimeout,
      );
  }

  #reset(): void {
    this.#token = null;
    this.#id = null;
    this.#versionstamp = null;
    this.#state = emptyState(0);
    this.#ops = [];
    this.#handed = undefined;
    this.#forced = false;
  }

  #hand(key: string, value: object): void {
    this.#handed ??= new Map();
    if (!this.#handed.has(key)) {
      this.#handed.set(key, { value, json: JSON.stringify(value) });
    }
  }

  /** Keys whose handed-out object is still in place and now serialises differently. */
  #changedInPlace(): string[] {
    if (this.#handed === undefined) return [];
    const changed: string[] = [];
    for (const [key, handed] of this.#handed) {
      if (this.#state.data.get(key) !== handed.value) continue;
      if (this.#forced || JSON.stringify(handed.value) !== handed.json) {
        assertJson(handed.value, key);
        changed.push(key);
      }
    }
    return changed;
  }

  /** Re-applies this request's operations on `base`, a newer stored version. */
  #replay(base: SessionState, inPlace: readonly string[]): SessionState {
    for (const op of this.#ops) {
      switch (op.kind) {
        case "set":
          base.data.set(op.key, clone(op.value));
          break;
        case "delete":
          base.data.delete(op.key);
          break;
        case "clear":
          base.data.clear();
          break;
        case "update": {
          const value = op.fn(base.data.get(op.key));
          assertJson(value, op.key);
          base.data.set(op.key, value);
          break;
        }
        case "flash":
          base.flash.set(op.key, clone(op.value));
          break;
        case "takeFlash":
          base.flash.delete(op.key);
          break;
        case "csrf":
          // A token another request created meanwhile wins: its page may
          // already carry it.
          base.csrf ??= op.value;
          break;
      }
    }
    for (const key of inPlace) {
      base.data.set(key, clone(this.#state.data.get(key)));
    }
    return base;
  }

  /** Saves the pending operations: one compare-and-swap, retried on conflict. */
  async #write(inPlace: readonly string[]): Promise<void> {
    const store = await this.#getStore();
    if (this.#id === null) {
      const state = this.#state;
      if (
        worthStoring(
          this.#csrfUnstored ? { ...state, csrf: null } : state,
        )
      ) await this.#create(store);
      this.#ops = [];
      return;
    }
    const key = sessionKey(this.#id);
    const writeId = newWriteId();
    let state = this.#state;
    let versionstamp = this.#versionstamp;
    for (let attempt = 1;; attempt++) {
      const now = Date.now();
      // Emptied (clear(), the last delete or takeFlash()): an empty session
      // is no session, as before its first value; its cookie goes.
      const written = worthStoring(state)
        ? withWrite({ ...state, seen: now }, writeId)
        : undefined;
      const checks = [{ key, versionstamp }];
      let result: string | null;
      try {
        result = written === undefined
          ? await this.#commit(store, checks, [], [key])
          : await this.#commit(
            store,
            checks,
            this.#saveSets(key, this.#encode(store, written), written, now),
            [],
          );
      } catch (error) {
        // The store may have applied the commit and lost its reply.
        const fresh = await quietly(this.#read(store, key));
        if (
          written === undefined ? fresh !== null : !this.#adopt(fresh, writeId)
        ) {
          throw error;
        }
        if (written === undefined) this.#emptied();
        return;
      }
      if (result !== null) {
        if (written === undefined) this.#emptied();
        else {
          this.#state = written;
          this.#versionstamp = result;
          this.#done();
        }
        return;
      }
      // The conflict may be this very write, applied and then reported as
      // failed (a client's resend after a lost reply fails its own check):
      // look at once, before other writes push it out of the record's list.
      let fresh = await this.#read(store, key);
      if (written !== undefined && this.#adopt(fresh, writeId)) {
        return;
      }
      if (attempt >= this.#options.maxAttempts) {
        throw new SessionConflictError(attempt);
      }
      await backoff(attempt);
      if (fresh !== null) fresh = await this.#read(store, key);
      if (fresh === null) {
        // Destroyed, rotated or expired meanwhile: this request's changes
        // are ordered before that, and the session is not brought back.
        // (Or this request emptied it and the store lost the reply.)
        if (written === undefined) this.#emptied();
        else this.#reset();
        return;
      }
      versionstamp = fresh.versionstamp;
      state = this.#replay(fresh.record, inPlace);
    }
  }

  /** Takes `fresh` as the stored session when it shows this request's write. */
  #adopt(
    fresh: SessionFound | null | undefined,
    writeId: string,
  ): boolean {
    if (!fresh || !fresh.record.writes.includes(writeId)) return false;
    this.#state = fresh.record;
    this.#versionstamp = fresh.versionstamp;
    this.#done();
    return true;
  }

  #emptied(): void {
    this.#reset();
    this.#cleared = true;
  }

  /** Stores a session that does not exist yet under a new token. */
  async #create(store: SessionStore): Promise<void> {
    const writeId = newWriteId();
    for (let attempt = 1;; attempt++) {
      const token = newToken();
      const id = tokenId(token);
      const key = sessionKey(id);
      const now = Date.now();
      const state = withWrite(
        { ...this.#state, created: now, seen: now, writes: [] },
        writeId,
      );
      const expireIn = this.#expireIn(now, now);
      const checks: StoreCheck[] = [{ key, versionstamp: null }];
      const deletes: StoreKey[] = [];
      const sets: StoreSet[] = [{
        key,
        value: this.#encode(store, state),
        expireIn,
      }];
      if (state.user !== null) {
        sets.push({
          key: userSessionKey(state.user, id),
          value: INDEX_VALUE,
          expireIn: this.#hardEnd(now, now),
        });
      }
      this.#dropStale(checks, deletes);
      const result = await this.#commitOrFind(
        store,
        { checks, sets, deletes },
        key,
        writeId,
      );
      if (result !== null) {
        this.#stale = undefined;
        this.#token = token;
        this.#id = id;
        if (typeof result === "string") {
          this.#versionstamp = result;
          this.#state = state;
          this.#done();
        } else this.#adopt(result, writeId);
        return;
      }
      // Only a stale record changing under us can fail this: forget it.
      this.#stale = undefined;
      if (attempt >= this.#options.maxAttempts) {
        throw new SessionConflictError(attempt);
      }
    }
  }

  /** New token; old record deleted in the same commit that stores the new one. */
  async #rotate(rotation: Rotation): Promise<void> {
    const store = await this.#getStore();
    const inPlace = this.#changedInPlace();
    const token = newToken();
    const id = tokenId(token);
    const newKey = sessionKey(id);
    const oldId = this.#id;
    const writeId = newWriteId();
    let state = this.#state;
    let versionstamp = this.#versionstamp;
    for (let attempt = 1;; attempt++) {
      const now = Date.now();
      const user = rotation.user === undefined ? state.user : rotation.user;
      // A login starts a new session; regenerate keeps the session's age.
      const created = rotation.user === undefined && oldId !== null
        ? state.created
        : now;
      const next: SessionState = {
        data: rotation.keep === null
          ? new Map(state.data)
          : pick(state.data, rotation.keep),
        // Flash crosses a regenerate only: a message for the signed-in user
        // must not reach the next visitor of the browser, nor one planted
        // before a login reach the user after it.
        flash: rotation.user === undefined ? new Map(state.flash) : new Map(),
        created,
        seen: now,
        user,
        csrf: null,
        meta: rotation.meta === undefined ? state.meta : rotation.meta,
        writes: [writeId],
      };
      const expireIn = this.#expireIn(created, now);
      const checks: StoreCheck[] = [];
      const deletes: StoreKey[] = [];
      const sets: StoreSet[] = [];
      if (oldId !== null) {
        const oldKey = sessionKey(oldId);
        checks.push({ key: oldKey, versionstamp });
        deletes.push(oldKey);
        if (state.user !== null) {
          deletes.push(userSessionKey(state.user, oldId));
        }
      } else {
        this.#dropStale(checks, deletes);
      }
      const keep = worthStoring(next);
      if (keep) {
        checks.push({ key: newKey, versionstamp: null });
        sets.push({ key: newKey, value: this.#encode(store, next), expireIn });
        if (user !== null) {
          sets.push({
            key: userSessionKey(user, id),
            value: INDEX_VALUE,
            expireIn: this.#hardEnd(created, now),
          });
        }
      }
      // A rotation the store could not record throws with nothing changed
      // here: a failed logout leaves the cookie as it was, so the response
      // cannot tell the browser it was signed out (DESIGN: Failure).
      const result = checks.length === 0 && !keep
        ? ""
        : keep
        ? await this.#commitOrFind(
          store,
          { checks, sets, deletes },
          newKey,
          writeId,
        )
        : await this.#commit(store, checks, sets, deletes).catch(
          async (error) => {
            // Applied with its reply lost: the old session is gone.
            if (
              oldId === null ||
              await quietly(this.#get(store, sessionKey(oldId))) !== null
            ) throw error;
            return "";
          },
        );
      if (result !== null) {
        this.#stale = undefined;
        if (keep) {
          this.#token = token;
          this.#id = id;
          if (typeof result === "string") {
            this.#versionstamp = result;
            this.#state = next;
            this.#done();
          } else this.#adopt(result, writeId);
        } else {
          this.#reset();
          this.#cleared = true;
          this.#ended = true;
        }
        return;
      }
      if (attempt >= this.#options.maxAttempts) {
        throw new SessionConflictError(attempt);
      }
      await backoff(attempt);
      if (oldId === null) {
        this.#stale = undefined;
        continue;
      }
      const fresh = await this.#read(store, sessionKey(oldId));
      if (fresh === null) {
        if (typeof rotation.user !== "string") {
          // Someone else ended this session meanwhile (or this logout did,
          // and the store lost the reply); there is nothing to rotate, and
          // it must not come back.
          this.#reset();
          if (!keep) this.#cleared = this.#ended = true;
          return;
        }
        // A login goes ahead as a fresh session.
        this.#reset();
        this.#state = {
          ...emptyState(now),
          user: rotation.user,
          meta: rotation.meta ?? null,
        };
        await this.#create(store);
        return;
      }
      versionstamp = fresh.versionstamp;
      state = this.#replay(fresh.record, inPlace);
    }
  }

  async #touch(): Promise<void> {
    const store = await this.#getStore();
    const key = sessionKey(this.#id!);
    const now = Date.now();
    const value = this.#encode(store, { ...this.#state, seen: now });
    const result = await this.#commit(
      store,
      [{ key, versionstamp: this.#versionstamp }],
      this.#saveSets(key, value, this.#state, now),
      [],
    );
    // A conflict means another request wrote, which refreshed the time too.
    if (result !== null) {
      this.#versionstamp = result;
      this.#state.seen = now;
      this.#wrote = true;
    }
  }

  /** Adds the removal of a dead record found at load to a commit that
   * creates a session, checked so a concurrent change is not lost. */
  #dropStale(checks: StoreCheck[], deletes: StoreKey[]): void {
    if (this.#stale === undefined) return;
    checks.push(this.#stale);
    deletes.push(this.#stale.key);
  }

  async #removeStale(): Promise<void> {
    const stale = this.#stale!;
    this.#stale = undefined;
    const store = await this.#getStore();
    await this.#commit(store, [stale], [], [stale.key]);
  }

  /** Over HTTPS, a session created over plain HTTP is erased (DESIGN: 5). */
  async #eraseDowngraded(token: string): Promise<void> {
    const store = await this.#getStore();
    const key = sessionKey(tokenId(token));
    const entry = await this.#get(store, key);
    // Only a plain-HTTP record is erased: the cookie is the client's to
    // forge, and naming an HTTPS session must not harm it.
    if (entry === null || decodeRecord(entry.value)?.https !== false) return;
    await this.#commit(store, [{ key, versionstamp: entry.versionstamp }], [], [
      key,
    ]);
    this.#erasedHttp = true;
  }

  async #get(store: SessionStore, key: StoreKey): Promise<StoreEntry | null> {
    try {
      return await withTimeout(
        store.get(key),
        this.#options.storeTimeout,
        "read",
      );
    } catch (error) {
      if (error instanceof SessionStoreTimeoutError) throw error;
      throw new SessionStoreError("Could not read the session", {
        cause: error,
      });
    }
  }

  async #read(
    store: SessionStore,
    key: StoreKey,
  ): Promise<SessionFound | null> {
    const entry = await this.#get(store, key);
    if (entry === null) return null;
    const record = decodeRecord(entry.value);
    return record !== null && this.#usable(record)
      ? { record, versionstamp: entry.versionstamp }
      : null;
  }

  /**
   * Commits a change that writes `key` as write `writeId`. When the store
   * reports a conflict or throws, the change may still have been applied
   * (a lost reply): then the record found under `key` is returned. `null`
   * is a real conflict; a real failure throws.
   */
  async #commitOrFind(
    store: SessionStore,
    change: StoreCommit,
    key: StoreKey,
    writeId: string,
  ): Promise<string | SessionFound | null> {
    const mine = async (): Promise<SessionFound | null> => {
      const fresh = await quietly(this.#read(store, key));
      return fresh && fresh.record.writes.includes(writeId) ? fresh : null;
    };
    let result: string | null;
    try {
      result = await this.#commit(
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

  async #commit(
    store: SessionStore,
    checks: StoreCheck[],
    sets: StoreSet[],
    deletes: StoreKey[],
  ): Promise<string | null> {
    try {
      return await withTimeout(
        store.commit({ checks, sets, deletes }),
        this.#options.storeTimeout,
        "commit",
      );
    } catch (error) {
      if (error instanceof SessionStoreTimeoutError) throw error;
      throw new SessionStoreError("Could not save the session", {
        cause: error,
      });
    }
  }

  #encode(store: SessionStore, state: SessionState): Uint8Array {
    const bytes = encodeRecord(state, this.#https);
    if (bytes.byteLength > store.maxValueBytes) {
      throw new SessionTooLargeError(bytes.byteLength, store.maxValueBytes);
    }
    return bytes;
  }

  /**
   * The writes of a save or touch: the record, and for a signed-in session
   * its index entry again, so the entry lives as long as the session can
   * under the timeouts in force now (they may have grown since the login).
   * Guarded by the record's check, so a revoked session is not re-indexed.
   */
  #saveSets(
    key: StoreKey,
    value: Uint8Array,
    state: SessionState,
    now: number,
  ): StoreSet[] {
    const sets: StoreSet[] = [{
      key,
      value,
      expireIn: this.#expireIn(state.created, now),
    }];
    if (state.user !== null) {
      sets.push({
        key: userSessionKey(state.user, key[1]!),
        value: INDEX_VALUE,
        expireIn: this.#hardEnd(state.created, now),
      });
    }
    return sets;
  }

  /**
   * Garbage collection of a user's index entry: the session's hard end, not
   * its idle deadline. Saves and touches keep a busy session alive without
   * rewriting the entry, and the index may list more sessions than are live
   * (stale entries are removed when found), never fewer.
   */
  #hardEnd(created: number, now: number): number {
    return Math.max(1, created + this.#options.absoluteTimeout - now);
  }

  #expireIn(created: number, now: number): number {
    return Math.max(
      1,
      Math.min(
        this.#options.idleTimeout,
        created + this.#options.absoluteTimeout - now,
      ),
    );
  }

  #done(): void {
    this.#ops = [];
    this.#handed = undefined;
    this.#forced = false;
    this.#wrote = true;
  }
}

/** A read after a failed commit: `undefined` when it fails too (the commit's
 * error is the one to report). */
async function quietly<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch {
    return undefined;
  }
}

function pick(
  data: ReadonlyMap<string, unknown>,
  keys: readonly string[],
): Map<string, unknown> {
  const kept = new Map<string, unknown>();
  for (const key of keys) if (data.has(key)) kept.set(key, data.get(key));
  return kept;
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Full jitter, capped: spreads retries of racing requests apart. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(100, 2 ** Math.min(attempt, 10));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}
