// The implementation of the public `Session` interface for one request: the
// API over its values (src/_values.ts) and their stored record
// (src/_stored_session.ts, src/_save.ts, src/_rotate.ts), and the cookies
// its response needs (src/_session_cookies.ts).
import { findCookie } from "./_cookie.ts";
import { assertJson } from "./_json.ts";
import { rotate, type Rotation } from "./_rotate.ts";
import { sessionCookies } from "./_session_cookies.ts";
import { limitSessions } from "./_session_limit.ts";
import { StoredSession } from "./_stored_session.ts";
import { isWellFormedToken, newToken } from "./_token.ts";
import { checkUserId } from "./_user_id.ts";
import { clone } from "./_values.ts";
import { MissingSessionValueError } from "./errors.ts";
import { lifetime, type ResolvedOptions } from "./options.ts";
import type { LoginOptions, Session, SessionRejection } from "./session.ts";

/**
 * One request's session. Created and driven by `withSession`.
 */
export class RequestSession implements Session<Record<string, unknown>> {
  readonly #options: ResolvedOptions;
  readonly #https: boolean;
  readonly #cookieName: string;
  readonly #stored: StoredSession;
  #used = false;

  constructor(options: ResolvedOptions, https: boolean) {
    this.#options = options;
    this.#https = https;
    this.#cookieName = https ? options.httpsCookie : options.httpCookie;
    this.#stored = new StoredSession(options, https);
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
        this.#stored.downgraded(plain.value);
      }
    }
    if (found.kind === "none") {
      // Over HTTPS, a plain-HTTP session cookie alone is the other channel's.
      if (this.#https && this.#options.httpCookie !== this.#cookieName) {
        const plain = findCookie(cookieHeader, this.#options.httpCookie);
        if (plain.kind !== "none") this.#stored.reject("wrong-channel");
      }
      return undefined;
    }
    if (found.kind === "many") {
      this.#stored.reject("duplicate");
      return undefined;
    }
    if (!isWellFormedToken(found.value)) {
      this.#stored.reject("malformed");
      return undefined;
    }
    if (!this.#https && this.#options.httpsOnly) {
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
    return this.#stored.values.get(key);
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
    await this.#rotate({
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
    this.#writable("");
    await this.#rotate({
      keep: null,
      user: undefined,
      meta: undefined,
      auth: Date.now(),
    });
  }

  async logout(): Promise<void> {
    this.#writable("");
    await this.#rotate({
      keep: this.#options.persistentFieldsOnLogout,
      user: null,
      meta: null,
      auth: null,
    });
  }

  async regenerate(): Promise<void> {
    this.#writable("");
    await this.#rotate({ keep: null, user: undefined, meta: undefined });
  }

  async destroy(): Promise<void> {
    this.#used = true;
    await this.#stored.destroy();
  }

  // ---- driven by withSession ----

  /** The stored CSRF token, without creating one. */
  get storedCsrfToken(): string | null {
    return this.#stored.values.state.csrf;
  }

  /**
   * Saves what the handler changed, or refreshes the last-seen time.
   * Returns `undefined` when there is nothing to store.
   */
  save(): Promise<void> | undefined {
    return this.#stored.save();
  }

  /** The `Set-Cookie` values the response needs. */
  cookies(): string[] {
    return sessionCookies(
      this.#stored,
      this.#options,
      this.#https,
      this.#cookieName,
    );
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

  #writable(key: string): void {
    this.#used = true;
    if (!this.#https && this.#options.httpsOnly) {
      throw new TypeError(
        `Cannot store "${key}": httpsOnly is set and this request came over plain HTTP`,
      );
    }
  }

  #rotate(rotation: Rotation): Promise<void> {
    return rotate(this.#stored, this.#options, rotation);
  }
}
