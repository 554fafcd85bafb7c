/**
 * The per-request session object.
 *
 * @module
 */

/**
 * Why a request that presented a session cookie has no session:
 * - `"expired"`: its session outlived `idleTimeout` or `absoluteTimeout`
 *   (or, for the old token of a renewed session, its `renewGrace`) and
 *   the store still held it;
 * - `"unknown"`: no session has that token (never issued, logged out,
 *   revoked, destroyed, or expired and already removed by the store);
 * - `"wrong-channel"`: the token belongs to the other channel (an HTTPS
 *   session presented over plain HTTP or the reverse, or any cookie over
 *   plain HTTP with `httpsOnly`) or the other carrier (a bearer token sent
 *   as a cookie, or a cookie's token sent as a bearer token);
 * - `"malformed"`: the cookie's value is not a tessera token;
 * - `"duplicate"`: the request carried more than one cookie of the name
 *   (one may be planted by a sibling subdomain), so none is used.
 */
export type SessionRejection =
  | "expired"
  | "unknown"
  | "wrong-channel"
  | "malformed"
  | "duplicate";

/** Options of {@link Session.login}. */
export interface LoginOptions {
  /**
   * Keep the user signed in across browser restarts for `rememberFor` (an
   * option of `withSession`, 30 days by default): a persistent cookie with
   * `Max-Age`, and that lifetime as the session's only timeout in place of
   * `idleTimeout` and `absoluteTimeout`. Other sessions keep
   * browser-session cookies and the global timeouts.
   *
   * @default {false}
   */
  remember?: boolean;
  /**
   * The session's own lifetime in milliseconds, as `remember` gives but of
   * this length; from 1 second (less with `allowShortTimeouts`) to 400 days.
   * Overrides `remember`.
   *
   * @default {undefined}
   */
  maxAge?: number;
}

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
  /**
   * Why the session cookie the request presented was not honoured, or
   * `null` (no cookie, or a live session). Lets an app tell a visitor whose
   * session ran out ("your session expired, please sign in again") from a
   * first visit.
   *
   * @example A session-expired message
   * ```ts
   * import { getSession, memoryStore, withSession } from "@tessera/session";
   *
   * const app = withSession((req) => {
   *   const session = getSession(req);
   *   if (session.rejected === "expired") {
   *     return new Response("Your session expired, please sign in again.");
   *   }
   *   return new Response(session.userId ?? "anonymous");
   * }, { store: memoryStore() });
   * const res = await app(new Request("http://localhost/"));
   * console.log(await res.text()); // "anonymous"
   * ```
   */
  readonly rejected: SessionRejection | null;
  /** The user bound by {@link Session.login}, or `null`. */
  readonly userId: string | null;
  /**
   * Binds a user: a new token, and every value erased except
   * `persistentFieldsOnLogin`. Saved before the promise resolves.
   *
   * @param userId The user's id.
   * @param metadata JSON the application records about this login (e.g. a
   * device summary), shown by `listSessions`.
   * @param options `remember` or `maxAge`: a session that outlives the
   * browser (see {@link LoginOptions}).
   * @returns When the new session is stored.
   *
   * @example Remember me
   * ```ts
   * import { getSession, memoryStore, withSession } from "@tessera/session";
   *
   * const app = withSession(async (req) => {
   *   const form = new URL(req.url).searchParams;
   *   await getSession(req).login("ada", undefined, {
   *     remember: form.get("remember") === "on",
   *   });
   *   return new Response("signed in");
   * }, { store: memoryStore() });
   * const res = await app(new Request("http://localhost/?remember=on"));
   * console.log(res.headers.get("set-cookie")); // "session=…; Max-Age=2592000; …"
   * ```
   */
  login(
    userId: string,
    metadata?: Record<string, unknown>,
    options?: LoginOptions,
  ): Promise<void>;
  /**
   * When the user last proved who they are: the time of `login()` or
   * `reauthenticate()`, ms since the epoch; `null` without a user.
   */
  readonly authenticatedAt: number | null;
  /**
   * Whether the user logged in or re-authenticated within the last `ms`
   * milliseconds, for sensitive actions (ASVS 3.7.1).
   *
   * @param ms How recent the authentication must be.
   * @returns `false` without a user.
   *
   * @example Asking for the password again before a sensitive change
   * ```ts
   * import { getSession, memoryStore, withSession } from "@tessera/session";
   *
   * const app = withSession((req) => {
   *   const session = getSession(req);
   *   if (!session.authenticatedWithin(5 * 60_000)) {
   *     return Response.redirect(new URL("/confirm-password", req.url), 303);
   *   }
   *   return new Response("email changed");
   * }, { store: memoryStore() });
   * console.log((await app(new Request("http://localhost/email"))).status); // 303
   * ```
   */
  authenticatedWithin(ms: number): boolean;
  /**
   * Records that the signed-in user proved who they are again (e.g.
   * re-entered their password): a new token, every value, the user and the
   * session's age kept, `authenticatedAt` set to now. Saved before the
   * promise resolves.
   *
   * @returns When the change is stored.
   * @throws {TypeError} when no user is signed in.
   */
  reauthenticate(): Promise<void>;
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
   * Stores the session now, with the same compare-and-swap, replay on
   * conflict and write ids as the save after the handler. In a handler it
   * saves what was changed so far. After the response was returned (in a
   * WebSocket's `onmessage`, an SSE stream, background work) it is the only
   * way to change the session: `set()`, `update()`, `delete()`, `clear()`
   * and `flash()` throw a `TypeError` there unless called inside `change`.
   * Calls run one after another; `update()` inside `change` composes with
   * concurrent requests (its function re-runs on the newer value).
   *
   * After the response, the session must already be stored (no cookie can
   * carry a new token), and `login()`, `logout()` and `regenerate()` throw.
   * When the session ended meanwhile (expired, destroyed, signed out
   * elsewhere), the change is dropped and `id` becomes `null`.
   *
   * @param change Changes to make before saving; it may be async.
   * @returns When the change is stored.
   * @throws {TypeError} after the response, when there is no stored session
   * to change.
   *
   * @example Counting WebSocket messages in the session (Deno)
   * ```ts ignore
   * import { getSession, withSession } from "@tessera/session";
   *
   * Deno.serve(withSession((req) => {
   *   const session = getSession<{ messages: number }>(req);
   *   session.update("messages", (n = 0) => n); // stored before the upgrade
   *   const { socket, response } = Deno.upgradeWebSocket(req);
   *   socket.onmessage = async () => {
   *     await session.save(() => {
   *       session.update("messages", (n = 0) => n + 1);
   *     });
   *     socket.send(String(session.get("messages")));
   *   };
   *   return response;
   * }));
   * ```
   */
  save(change?: () => void | Promise<void>): Promise<void>;
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
