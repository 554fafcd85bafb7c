// The stored side of one request's session: which record it was loaded
// from, and how its changes reach the store — creation, the compare-and-swap
// save retried with replay, the touch, destroy, and the clean-up of dead or
// downgraded records. Each commit carries a write id, so a commit the store
// applied but whose reply was lost is recognised instead of replayed.
import { hasWrite } from "./_record.ts";
import {
  forwardOf,
  quietly,
  recordOf,
  type SessionFound,
  sessionKey,
  StoreAccess,
  userSessionKey,
} from "./_store_access.ts";
import { type Emitter, SILENT } from "./_emit.ts";
import { tokenId } from "./_token.ts";
import type { Forward } from "./_forward.ts";
import { renew } from "./_renew.ts";
import { saveChanges } from "./_save.ts";
import { SessionValues } from "./_values.ts";
import type { SessionState } from "./_record.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { SessionRejection } from "./session.ts";
import type { SessionStore, StoreCheck, StoreKey } from "./store.ts";
import type { SideEntry } from "./stores/_side.ts";

const NO_KEYS: readonly string[] = [];

/** One request's session as stored: its token, record and pending values. */
export class StoredSession {
  /** Made on first use, as is {@link io}: a request without a session
   * cookie whose handler never changes its session needs neither, and a
   * request's allocations are what its garbage collection costs. */
  #values: SessionValues | undefined;
  #io: StoreAccess | undefined;
  /** The channel, until {@link io} takes it (`undefined` once released). */
  #channel: boolean | Request | undefined;
  readonly #options: ResolvedOptions;
  /** Token the browser presented and that loaded a session, if any. */
  #presented: string | null = null;
  #token: string | null = null;
  #id: string | null = null;
  #versionstamp: string | null = null;
  #wrote = false;
  #cleared = false;
  /** The session ended with no new one in its place (destroy, full logout). */
  #ended = false;
  /** An expired or unreadable record found under the presented token. */
  #stale: StoreCheck | undefined;
  /** Plain-HTTP token presented over HTTPS, to be erased. */
  #downgraded: string | undefined;
  #erasedHttp = false;
  #forwarded = false;
  #rejected: SessionRejection | null = null;
  /** A CSRF token handed out without a session, not a reason to create one. */
  csrfUnstored = false;
  /** Where this request's lifecycle events go. */
  readonly events: Emitter;

  /** `channel`: as {@link StoreAccess}'s. */
  constructor(
    options: ResolvedOptions,
    channel: boolean | Request,
    events: Emitter = SILENT,
  ) {
    this.#options = options;
    this.#channel = channel;
    this.events = events;
  }

  /** The values and the operations on them. */
  get values(): SessionValues {
    return this.#values ??= new SessionValues();
  }

  /** The store, as this request uses it. */
  get io(): StoreAccess {
    if (this.#io === undefined) {
      this.#io = new StoreAccess(this.#options, this.#channel);
      this.#channel = undefined;
    }
    return this.#io;
  }

  /** The response is out: the request is let go (see StoreAccess). */
  release(): void {
    if (this.#io !== undefined) this.#io.release();
    else if (typeof this.#channel !== "boolean") this.#channel = undefined;
  }

  /** A value, without making the values of a request that has none. */
  peek(key: string): unknown {
    return this.#values === undefined ? undefined : this.#values.get(key);
  }

  /** Whether the request came over HTTPS. */
  get https(): boolean {
    return this.io.https;
  }

  /** The name of the session cookie on the request's channel. */
  get cookieName(): string {
    return this.https ? this.#options.httpsCookie : this.#options.httpCookie;
  }
  get presented(): string | null {
    return this.#presented;
  }
  get token(): string | null {
    return this.#token;
  }
  get id(): string | null {
    return this.#id;
  }
  get versionstamp(): string | null {
    return this.#versionstamp;
  }
  /** Whether this request stored the record (a save or a touch). */
  get wrote(): boolean {
    return this.#wrote;
  }
  /** Whether the session this request had is gone, its cookie to clear. */
  get cleared(): boolean {
    return this.#cleared;
  }
  get ended(): boolean {
    return this.#ended;
  }
  /** Whether a plain-HTTP session was erased, its cookie to clear. */
  get erasedHttp(): boolean {
    return this.#erasedHttp;
  }

  /** Remembers a plain-HTTP token seen over HTTPS, to erase its record. */
  downgraded(token: string): void {
    this.#downgraded = token;
  }

  /**
   * Loads the session under `token`, if it is live on this channel; at
   * once, with no promise, when the store answers at once.
   */
  load(token: string): Promise<void> | undefined {
    const store = this.io.store();
    if (store instanceof Promise) {
      return store.then((opened) => this.#loadFrom(opened, token));
    }
    return this.#loadFrom(store, token);
  }

  #loadFrom(store: SessionStore, token: string): Promise<void> | undefined {
    const id = tokenId(token);
    const key = sessionKey(id);
    return this.io.getThen(
      store,
      key,
      (found) => this.#found(store, token, id, key, found),
    );
  }

  #found(
    store: SessionStore,
    token: string,
    id: string,
    key: StoreKey,
    entry: SideEntry | null,
  ): Promise<void> | undefined {
    if (entry === null) {
      this.reject("unknown");
      return undefined;
    }
    const record = recordOf(entry.value);
    if (record === null) {
      const forward = forwardOf(entry.value);
      if (forward !== null) return this.#loadForwarded(store, token, forward);
    }
    if (record === null || !this.io.usable(record)) {
      // A record on the other channel is not ours to remove; anything else
      // under this token is dead.
      if (record === null || this.io.sameChannel(record)) {
        this.#stale = { key, versionstamp: entry.versionstamp };
        if (record !== null) {
          this.events.emit({
            type: "expired",
            sessionId: id,
            userId: record.user,
          });
        }
      }
      this.reject(
        record === null
          ? "unknown"
          : this.io.sameChannel(record)
          ? "expired"
          : "wrong-channel",
      );
      return undefined;
    }
    this.#loaded(token, id, entry.versionstamp, record);
    return undefined;
  }

  /** An old token of a renewed session, within its grace window. */
  async #loadForwarded(
    store: SessionStore,
    token: string,
    forward: Forward,
  ): Promise<void> {
    // Left for its store expiry: it may still serve parallel requests.
    if (forward.https !== this.io.https) return this.reject("wrong-channel");
    if (forward.until <= Date.now()) return this.reject("expired");
    const found = await this.io.read(store, sessionKey(forward.to));
    if (found === null) return this.reject("unknown");
    this.#loaded(token, forward.to, found.versionstamp, found.record);
    this.#forwarded = true;
  }

  #loaded(
    token: string,
    id: string,
    versionstamp: string,
    state: SessionState,
  ): void {
    this.#presented = token;
    this.#token = token;
    this.#id = id;
    this.#versionstamp = versionstamp;
    this.values.state = state;
  }

  /** Why the presented cookie did not give a session. */
  get rejected(): SessionRejection | null {
    return this.#rejected;
  }

  /** Records why the presented cookie did not give a session. */
  reject(reason: SessionRejection): void {
    this.#rejected = reason;
  }

  /**
   * Whether the request reached its session through the old token of a
   * renewal (its own or a parallel request's): it never issues that token
   * again, which would overwrite the new cookie in the browser.
   */
  get forwarded(): boolean {
    return this.#forwarded;
  }

  /** The session was renewed meanwhile: it lives on under `id`. */
  retarget(id: string): void {
    this.#id = id;
    this.#forwarded = true;
  }

  /**
   * Saves what the handler changed, or refreshes the last-seen time.
   * Returns `undefined` when there is nothing to store.
   */
  save(): Promise<void> | undefined {
    const values = this.#values;
    const inPlace = values === undefined ? NO_KEYS : values.changedInPlace();
    const write = values !== undefined &&
      (values.pending || inPlace.length > 0 || values.forced);
    // No clock for a request without a stored session (nothing to renew
    // or touch), nor for a write that cannot renew (it is no touch): the
    // save reads it.
    const now = this.#id === null ||
        (write && this.#options.renewInterval === undefined)
      ? 0
      : Date.now();
    const renewal = this.#renewalDue(now);
    const touch = !write && this.#id !== null &&
      now - this.values.state.seen >= this.#options.touchInterval;
    if (
      !write && !touch && !renewal && this.#stale === undefined &&
      this.#downgraded === undefined
    ) {
      return undefined; // the common read-only request: no promise at all
    }
    if (
      write && !renewal && this.#stale === undefined &&
      this.#downgraded === undefined
    ) {
      // The common write: no promise on a store in this process.
      return saveChanges(this, this.#options, inPlace);
    }
    return this.#save(write, touch, renewal, inPlace);
  }

  /** Whether the token this request presented is due for renewal. */
  #renewalDue(now: number): boolean {
    const interval = this.#options.renewInterval;
    return interval !== undefined && this.#id !== null && !this.#forwarded &&
      this.#token === this.#presented &&
      now - (this.values.state.issued ?? this.values.state.created) >= interval;
  }

  async #save(
    write: boolean,
    touch: boolean,
    renewal: boolean,
    inPlace: readonly string[],
  ): Promise<void> {
    // A renewal that lost a race to a parallel write or renewal saves the
    // changes as usual (following the parallel renewal's forward).
    if (renewal && await renew(this, this.#options)) {
      // Saved with the renewal.
    } else if (write) await saveChanges(this, this.#options, inPlace);
    else if (touch) await this.#touch();
    if (this.#stale !== undefined) await this.#removeStale();
    if (this.#downgraded !== undefined) {
      await this.#eraseDowngraded(this.#downgraded);
    }
  }

  /** Deletes the session; a delete the store did not confirm throws. */
  async destroy(): Promise<void> {
    const store = await this.io.store();
    if (this.#id !== null) {
      const deletes = [sessionKey(this.#id)];
      const user = this.values.state.user;
      if (user !== null) deletes.push(userSessionKey(user, this.#id));
      // A delete the store did not confirm throws before anything is
      // forgotten: the cookie stays, so the response cannot claim a
      // sign-out that did not happen, and the app can say so or retry.
      // Unless it was applied and its reply lost: then the session is gone,
      // as asked.
      const key = deletes[0]!;
      await this.io.commit(store, [], [], deletes).catch(async (error) => {
        if (await quietly(this.io.get(store, key)) !== null) throw error;
      });
    }
    this.end();
  }

  /** Takes the session stored under a new `token` as this request's. */
  settle(
    token: string,
    result: string | SessionFound,
    state: SessionState,
    writeId: string,
  ): void {
    this.#stale = undefined;
    this.#token = token;
    this.#id = tokenId(token);
    if (typeof result === "string") this.stored(result, state);
    else this.adopt(result, writeId);
  }

  /** Takes `state`, stored as `versionstamp`, as the saved session. */
  stored(versionstamp: string, state: SessionState): void {
    this.#versionstamp = versionstamp;
    this.values.state = state;
    this.#done();
  }

  /** Takes `fresh` as the stored session when it shows this request's write. */
  adopt(fresh: SessionFound | null | undefined, writeId: string): boolean {
    if (!fresh || !hasWrite(fresh.record.writes, writeId)) return false;
    this.stored(fresh.versionstamp, fresh.record);
    return true;
  }

  #done(): void {
    this.values.done();
    this.#wrote = true;
  }

  /** No session any more. */
  reset(): void {
    this.#token = null;
    this.#id = null;
    this.#versionstamp = null;
    this.values.reset();
  }

  /** The session is gone (emptied or ended): its cookie goes. */
  emptied(): void {
    this.reset();
    this.#cleared = true;
  }

  /** The session ended with none in its place: its cookie goes. */
  end(): void {
    this.emptied();
    this.#ended = true;
  }

  async #touch(): Promise<void> {
    const store = await this.io.store();
    const key = sessionKey(this.#id!);
    const now = Date.now();
    const state = this.values.state;
    const value = this.io.encode(store, { ...state, seen: now });
    const result = await this.io.commit(
      store,
      [{ key, versionstamp: this.#versionstamp }],
      this.io.saveSets(key, value, state, now),
      [],
    );
    // A conflict means another request wrote, which refreshed the time too.
    if (result !== null) {
      this.#versionstamp = result;
      state.seen = now;
      this.#wrote = true;
    }
  }

  /** Forgets the dead record found at load (a rotation replaced it). */
  forgetStale(): void {
    this.#stale = undefined;
  }

  /** Adds the removal of a dead record found at load to a commit that
   * creates a session, checked so a concurrent change is not lost. */
  dropStale(checks: StoreCheck[], deletes: StoreKey[]): void {
    if (this.#stale === undefined) return;
    checks.push(this.#stale);
    deletes.push(this.#stale.key);
  }

  async #removeStale(): Promise<void> {
    const stale = this.#stale!;
    this.#stale = undefined;
    const store = await this.io.store();
    await this.io.commit(store, [stale], [], [stale.key]);
  }

  /** Over HTTPS, a session created over plain HTTP is erased (DESIGN: 5). */
  async #eraseDowngraded(token: string): Promise<void> {
    const store = await this.io.store();
    const key = sessionKey(tokenId(token));
    const entry = await this.io.get(store, key);
    // Only a plain-HTTP record is erased: the cookie is the client's to
    // forge, and naming an HTTPS session must not harm it.
    if (entry === null || recordOf(entry.value)?.https !== false) return;
    await this.io.commit(
      store,
      [{ key, versionstamp: entry.versionstamp }],
      [],
      [key],
    );
    this.#erasedHttp = true;
  }
}
