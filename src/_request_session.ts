// The implementation of the public `Session` interface for one request: the
// API over its values (src/_values.ts) and their stored record
// (src/_stored_session.ts, src/_save.ts, src/_rotate.ts), and the cookies
// its response needs (src/_session_cookies.ts).
import { bearerToken, tokenHeader } from "./bearer.ts";
import { findCookie } from "./_cookie.ts";
import { type Emitter, SILENT } from "./_emit.ts";
import { assertJson } from "./_json.ts";
import { rotate, type Rotation } from "./_rotate.ts";
import { sessionCookies } from "./_session_cookies.ts";
import { limitSessions } from "./_session_limit.ts";
import { StoredSession } from "./_stored_session.ts";
import { isWellFormedToken, newToken } from "./_token.ts";
import { checkUserId } from "./_user_id.ts";
import { clone } from "./_values.ts";
import { MissingSessionValueError } from "./errors.ts";
import { lifetime } from "./_option_checks.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { LoginOptions, Session, SessionRejection } from "./session.ts";

/**
 * One request's session. Created and driven by `withSession`.
 */
export class RequestSession implements Session<Record<string, unknown>> {
  readonly #options: ResolvedOptions;
  readonly #stored: StoredSession;
  #used = false;
  /** The handler returned: its response is gone, no cookie can follow. */
  #closed = false;
  /** How many `save(change)` callbacks are running (writes allowed). */
  #changing = 0;
  /** Saves of long-lived code, one after another (none in most requests). */
  #saving: Promise<unknown> | undefined;

  /** `channel`: whether the request came over HTTPS, or the request, to
   * be asked when first needed (a request without cookies that starts no
   * session never needs it). */
  constructor(
    options: ResolvedOptions,
    channel: boolean | Request,
    events: Emitter = SILENT,
  ) {
    this.#options = options;
    this.#stored = new StoredSession(options, channel, events);
  }

  /** Whether the request came over HTTPS. */
  get https(): boolean {
    return this.#stored.https;
  }

  /**
   * Reads the session named by the request's cookie. Returns `undefined`
   * (no promise, no store access) when the request names none.
   */
  load(headers: Headers): Promise<void> | undefined {
    if (this.#options.carrier === "bearer") {
      // Cookies are not looked at: a bearer app never mixes with them.
      const token = bearerToken(headers.get("authorization"));
      if (token === null || (!this.#stored.https && this.#options.httpsOnly)) {
        return undefined;
      }
      return this.#stored.load(token);
    }
    const cookieHeader = headers.get("cookie");
    if (cookieHeader === null) return undefined;
    const found = findCookie(cookieHeader, this.#stored.cookieName);
    // Over HTTPS, the plain-HTTP cookie too: read once, for both its uses.
    const plain = this.#stored.https
      ? findCookie(cookieHeader, this.#options.httpCookie)
      : undefined;
    if (plain?.kind === "one" && isWellFormedToken(plain.value)) {
      this.#stored.downgraded(plain.value);
    }
    if (found.kind === "none") {
      // Over HTTPS, a plain-HTTP session cookie alone is the other channel's.
      if (plain !== undefined && plain.kind !== "none") {
        this.#stored.reject("wrong-channel");
      }
      return undefined;
    }
    if (found.kind === "many") {
      this.#stored.reject("duplicate");
      this.#cookieEvent("cookie-duplicate");
      return undefined;
    }
    if (!isWellFormedToken(found.value)) {
      this.#stored.reject("malformed");
      this.#cookieEvent("cookie-malformed");
      return undefined;
    }
    if (!this.#stored.https && this.#options.httpsOnly) {
      this.#stored.reject("wrong-channel");
      return undefined;
    }
    return this.#stored.load(found.value);
  }

  // ---- the public API ----

  get isNew(): boolean {
    return this.#stored.presented === null;
  }

  get rejected(): SessionRejection | null {
    return this.#stored.rejected;
  }

  get userId(): string | null {
    return this.#stored.values.state.user;
  }

  get id(): string | null {
    return this.#stored.id;
  }

  get(key: string): unknown {
    this.#used = true;
    return this.#stored.peek(key);
  }

  require(key: string): unknown {
    this.#used = true;
    if (!this.#stored.values.state.data.has(key)) {
      throw new MissingSessionValueError(key);
    }
    return this.get(key);
  }

  set(key: string, value: unknown): void {
    this.#writable(key);
    this.#stored.values.set(key, value);
  }

  has(key: string): boolean {
    this.#used = true;
    return this.#stored.values.state.data.has(key);
  }

  delete(key: string): boolean {
    this.#writable(key);
    return this.#stored.values.delete(key);
  }

  keys(): string[] {
    this.#used = true;
    return [...this.#stored.values.state.data.keys()];
  }

  clear(): void {
    this.#writable("");
    this.#stored.values.clear();
  }

  update(key: string, fn: (current: unknown) => unknown): unknown {
    this.#writable(key);
    return this.#stored.values.update(key, fn);
  }

  markChanged(): void {
    this.#stored.values.force();
  }

  csrfToken(): string {
    const state = this.#stored.values.state;
    if (state.csrf === null) {
      const value = newToken();
      state.csrf = value;
      if (
        this.#stored.id === null &&
        this.#options.csrf?.anonymous === "same-origin"
      ) {
        // No session to keep it in: the check lets a token-less request
        // through on Fetch Metadata / Origin, so a visitor shown a form is
        // not stored. The token is kept if the session is created anyway.
        this.#stored.csrfUnstored = true;
      } else {
        this.#writable("csrf token");
        this.#stored.values.csrf(value);
      }
    }
    this.#used = true;
    return state.csrf;
  }

  flash(key: string, value: unknown): void {
    this.#writable(key);
    this.#stored.values.flash(key, value);
  }

  takeFlash<V = unknown>(key: string): V | undefined {
    this.#used = true;
    return this.#stored.values.takeFlash(key) as V | undefined;
  }

  async login(
    userId: string,
    metadata?: Record<string, unknown>,
    options?: LoginOptions,
  ): Promise<void> {
    this.#open("login()");
    checkUserId(userId, "login()");
    const life = this.#lifeOf(options);
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
    await this.#rotate("login", {
      keep: this.#options.persistentFieldsOnLogin,
      user: userId,
      meta: metadata === undefined
        ? null
        : clone(metadata) as Record<string, unknown>,
      life,
      auth: Date.now(),
    });
    const max = this.#options.maxSessionsPerUser;
    if (max !== undefined) {
      await limitSessions(
        this.#stored.io,
        await this.#stored.io.store(),
        userId,
        max,
      );
    }
  }

  #lifeOf(options: LoginOptions | undefined): number | null {
    if (options === undefined) return null;
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `login() options must be an object such as { remember: true }, got ${
          String(options)
        }`,
      );
    }
    const { remember, maxAge } = options;
    if (remember !== undefined && typeof remember !== "boolean") {
      throw new TypeError(
        `login() option remember must be true or false, got ${
          String(remember)
        }`,
      );
    }
    if (maxAge !== undefined) {
      return lifetime(
        "login() option maxAge",
        maxAge,
        0,
        this.#options.shortest,
      );
    }
    return remember ? this.#options.rememberFor : null;
  }

  get authenticatedAt(): number | null {
    this.#used = true;
    return this.#stored.values.state.user === null
      ? null
      : this.#stored.values.state.auth ?? this.#stored.values.state.created;
  }

  authenticatedWithin(ms: number): boolean {
    if (typeof ms !== "number" || !(ms >= 0)) {
      throw new TypeError(
        `authenticatedWithin() needs a number of milliseconds, got ${
          String(ms)
        }`,
      );
    }
    const at = this.authenticatedAt;
    return at !== null && Date.now() - at <= ms;
  }

  async reauthenticate(): Promise<void> {
    if (this.#stored.values.state.user === null) {
      throw new TypeError(
        "reauthenticate() needs a signed-in user: call login() instead",
      );
    }
    this.#open("reauthenticate()");
    this.#writable("");
    await this.#rotate("rotated", {
      keep: null,
      user: undefined,
      meta: undefined,
      auth: Date.now(),
    });
  }

  async logout(): Promise<void> {
    this.#open("logout()");
    this.#writable("");
    await this.#rotate("logout", {
      keep: this.#options.persistentFieldsOnLogout,
      user: null,
      meta: null,
      auth: null,
    });
  }

  async regenerate(): Promise<void> {
    this.#open("regenerate()");
    this.#writable("");
    await this.#rotate("rotated", {
      keep: null,
      user: undefined,
      meta: undefined,
    });
  }

  save(change?: () => void | Promise<void>): Promise<void> {
    if (change !== undefined && typeof change !== "function") {
      throw new TypeError(
        `save() takes a function that changes the session, got ${
          String(change)
        }`,
      );
    }
    const run = (this.#saving ?? Promise.resolve()).then(() =>
      this.#saveNow(change)
    );
    this.#saving = run.catch(() => {});
    return run;
  }

  async destroy(): Promise<void> {
    this.#used = true;
    const { id } = this.#stored;
    const userId = this.userId;
    await this.#stored.destroy();
    if (id !== null) {
      this.#stored.events.emit({ type: "destroyed", sessionId: id, userId });
    }
  }

  // ---- driven by withSession ----

  /** Where this request's lifecycle events go. */
  get events(): Emitter {
    return this.#stored.events;
  }

  /** The stored CSRF token, without creating one. */
  get storedCsrfToken(): string | null {
    return this.#stored.values.state.csrf;
  }

  /**
   * Saves what the handler changed, or refreshes the last-seen time, once
   * the handler returned; later writes throw. Returns `undefined` when there
   * is nothing to store.
   */
  commit(): Promise<void> | undefined {
    this.#closed = true;
    return this.#stored.save();
  }

  /** The response is being answered without the handler's (it threw). */
  close(): void {
    this.#closed = true;
    this.release();
  }

  /** The `Session-Token` header value (bearer carrier), if one is due. */
  tokenHeader(): string | undefined {
    return tokenHeader(this.#stored);
  }

  /** Whether the response must carry a new token or clear the cookie. */
  get issuesCookie(): boolean {
    const stored = this.#stored;
    return stored.token !== stored.presented || stored.erasedHttp;
  }

  /** The `Set-Cookie` values the response needs. */
  cookies(): readonly string[] {
    return sessionCookies(this.#stored, this.#options);
  }

  /** The response is out: the request is let go (see StoreAccess). */
  release(): void {
    this.#stored.release();
  }

  /** Whether this request ended its session without starting another. */
  get ended(): boolean {
    return this.#stored.ended && this.#stored.token === null;
  }

  /** Whether the response depends on the session cookie. */
  get used(): boolean {
    return this.#used || this.#stored.presented !== null;
  }

  // ---- internals ----

  async #saveNow(change?: () => void | Promise<void>): Promise<void> {
    if (change !== undefined) {
      this.#changing++;
      try {
        await change();
      } finally {
        this.#changing--;
      }
    }
    const stored = this.#stored;
    if (this.#closed && stored.id === null) {
      const state = stored.values.state;
      if (stored.values.pending || state.data.size > 0 || state.flash.size) {
        // Storing it would mint a token no response can carry.
        stored.values.reset();
        throw new TypeError(
          "save() found no stored session to change: it ended (expired, destroyed or signed out elsewhere), or was never created. Create the session during a request (before its response, e.g. before the WebSocket upgrade), and check session.id after save()",
        );
      }
      return;
    }
    await stored.save();
  }

  /** Rotations need a cookie: refused once the response is gone. */
  #open(what: string): void {
    if (this.#closed) {
      throw new TypeError(
        `Cannot call ${what} after the response was returned: the new token would need a cookie that response can no longer carry. Call it while handling a request, and have the client make a new request (e.g. reconnect its WebSocket)`,
      );
    }
  }

  #cookieEvent(type: "cookie-duplicate" | "cookie-malformed"): void {
    this.#stored.events.emit({ type, cookieName: this.#stored.cookieName });
  }

  #writable(key: string): void {
    this.#used = true;
    if (this.#closed && this.#changing === 0) {
      throw new TypeError(
        `Cannot change "${key}" after the response was returned: the change would be lost. From long-lived code (WebSocket messages, SSE, background work), change the session inside \`await session.save(() => { ... })\`, which stores it with a compare-and-swap`,
      );
    }
    // An answered request that never stored a session cannot store one
    // (save() refuses it), and need not know its channel any more.
    if (
      this.#options.httpsOnly && !(this.#closed && this.#stored.id === null) &&
      !this.#stored.https
    ) {
      throw new TypeError(
        `Cannot store "${key}": httpsOnly is set and this request came over plain HTTP`,
      );
    }
  }

  async #rotate(
    type: "login" | "logout" | "rotated",
    rotation: Rotation,
  ): Promise<void> {
    const previous = this.#stored.id;
    const before = this.userId;
    await rotate(this.#stored, this.#options, rotation);
    this.#stored.events.emit({
      type,
      sessionId: this.#stored.id,
      previousSessionId: previous,
      userId: type === "logout" ? before : this.userId,
    });
  }
}
