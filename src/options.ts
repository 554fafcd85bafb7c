/**
 * The options of `withSession`: what each one means and its default.
 * `_resolve_options.ts` applies and checks them.
 *
 * @module
 */
import type { SessionEventListener } from "./events.ts";
import type { CsrfOptions } from "./csrf.ts";
import type { SessionStore } from "./store.ts";

/** The `SameSite` attribute of the session cookie. */
export type SameSite = "Strict" | "Lax" | "None";

/** The proxies in front of the app, for {@link SessionOptions.trustProxy}. */
export interface TrustProxyOptions {
  /**
   * How many proxies every request passes.
   *
   * @default {1}
   */
  hops?: number;
  /**
   * The header they write the scheme into.
   *
   * @default {"x-forwarded-proto"}
   */
  header?: "x-forwarded-proto" | "forwarded";
}

/** Options of `withSession`. Durations are milliseconds. */
export interface SessionOptions {
  /**
   * Where sessions are kept. On Deno, the default opens `Deno.openKv()` on the
   * first request that needs it. Elsewhere a store is required.
   *
   * @default {kvStore(await Deno.openKv())}
   */
  store?: SessionStore;
  /**
   * The cookie name: `__Host-` + name over HTTPS, name over plain HTTP.
   *
   * @default {"session"}
   */
  cookieName?: string;
  /**
   * A session unused for this long is gone. At most `absoluteTimeout`; when
   * only `absoluteTimeout` is given and it is shorter than the default, the
   * idle timeout defaults to it.
   *
   * @default {3_600_000} (1 hour)
   */
  idleTimeout?: number;
  /**
   * A session older than this is gone, however busy.
   *
   * @default {86_400_000} (24 hours)
   */
  absoluteTimeout?: number;
  /**
   * Read-only requests refresh the last-seen time at most this often, so
   * reading a session rarely writes.
   *
   * @default {300_000} (5 minutes)
   */
  touchInterval?: number;
  /**
   * Cookie lifetime. Absent: a browser-session cookie, dropped when the
   * browser closes. From 1 second to `absoluteTimeout` (a cookie that
   * outlives its session only carries a dead token) and at most 400 days,
   * the browsers' cap.
   *
   * @default {undefined}
   */
  cookieMaxAge?: number;
  /**
   * Renew the token of a session this long after it was issued (OWASP's
   * renewal timeout): the next request gets a new token, same session.
   * Requests the browser sent in parallel with the old token reach the same
   * session through it for `renewGrace`, then it is dead. Absent: tokens
   * change only on login, logout and `regenerate()`. From 1 second (less
   * with `allowShortTimeouts`) to `absoluteTimeout`.
   *
   * @default {undefined}
   */
  renewInterval?: number;
  /**
   * How long the old token of a renewed session is still honoured, for
   * requests already on their way. From 1 second (less with
   * `allowShortTimeouts`) to 10 minutes.
   *
   * @default {30_000} (30 seconds)
   */
  renewGrace?: number;
  /**
   * The lifetime of a session logged in with `login(user, metadata, {
   * remember: true })`: its cookie's `Max-Age` and its only timeout. From 1
   * second (less with `allowShortTimeouts`) to 400 days.
   *
   * @default {2_592_000_000} (30 days)
   */
  rememberFor?: number;
  /**
   * How many sessions one user may have at once. A login beyond it ends
   * the user's oldest sessions (by login time), found through the per-user
   * index, never by scanning the store. Racing logins agree on the order,
   * so the newest `maxSessionsPerUser` remain. Absent: no limit. An integer
   * from 1 to 10,000.
   *
   * @default {undefined}
   */
  maxSessionsPerUser?: number;
  /**
   * How long the store keeps a session past its end (idle or absolute
   * timeout), dead but recognisable, so that a request presenting its
   * cookie gets `session.rejected === "expired"` rather than `"unknown"`.
   * The record is never loaded again; the first request that sees it
   * removes it. Costs store space for sessions abandoned within that time.
   * At most `idleTimeout`.
   *
   * @default {0}
   */
  expiredNotice?: number;
  /**
   * Accept `idleTimeout` and `absoluteTimeout` under one second. Durations
   * are milliseconds, so a sub-second timeout is almost always seconds typed
   * as milliseconds (`idleTimeout: 1800` for half an hour) and is refused
   * unless this is set: for tests that let sessions expire in real time.
   *
   * @default {false}
   */
  allowShortTimeouts?: boolean;
  /**
   * The cookie's `SameSite` attribute. `"None"` needs a `Secure` cookie, so
   * it requires `httpsOnly: true`.
   *
   * @default {"Lax"}
   */
  sameSite?: SameSite;
  /**
   * Serve sessions over HTTPS only: plain-HTTP requests get a session that
   * cannot be saved.
   *
   * @default {false}
   */
  httpsOnly?: boolean;
  /**
   * Values kept when `login()` resets the session.
   *
   * @default {["language"]}
   */
  persistentFieldsOnLogin?: readonly string[];
  /**
   * Values kept when `logout()` resets the session. When none is kept,
   * logout destroys the session.
   *
   * @default {["language"]}
   */
  persistentFieldsOnLogout?: readonly string[];
  /**
   * Take the request's scheme from the header your proxies write, only
   * behind proxies that every request passes. `true` (or a number of
   * proxies, `1` to `16`) reads `X-Forwarded-Proto`; `{ header:
   * "forwarded", hops }` reads the `proto=` of RFC 7239 `Forwarded`
   * instead. Exactly one header is read: the other is the client's to send
   * and is ignored. Proxies append, so the value the outermost of `hops`
   * proxies wrote counts, counted from the right (`1`: the right-most, by
   * the proxy the app's connection comes from); values further left came
   * from the client. A header with fewer values than `hops` is ignored (the
   * URL's scheme counts).
   *
   * @default {false}
   */
  trustProxy?: boolean | number | TrustProxyOptions;
  /**
   * Send `Clear-Site-Data: "cookies"` when a session ends without a new one
   * taking its place (`destroy()`, and `logout()` when no
   * `persistentFieldsOnLogout` value is kept). Browsers then drop every
   * cookie of the registrable domain, subdomains included (signing the user
   * out of every `*.example.com` app, not only this one), and HTTP
   * authentication credentials. Not sent when a new session cookie is issued
   * in the same response, which it would clear.
   *
   * @default {false}
   */
  clearSiteData?: boolean;
  /**
   * Reject unsafe-method requests (every method but GET, HEAD, OPTIONS and
   * TRACE) before the handler runs, through `onError` with a `CsrfError`
   * (403 by default), unless the browser's `Sec-Fetch-Site` and `Origin`,
   * where sent, show this site's origin (scheme, host and port) or a trusted
   * one, and the request carries the session's `csrfToken()` in the
   * `x-csrf-token` header or the `_csrf` form field. A request whose session
   * has no token and no signed-in user (an anonymous visitor) passes on a
   * same-origin `Sec-Fetch-Site` or `Origin` alone. `true` uses the defaults
   * of {@link CsrfOptions}.
   *
   * @default {false}
   */
  csrf?: boolean | CsrfOptions;
  /**
   * How the session token travels. `"cookie"`: in the session cookie.
   * `"bearer"`, for API and mobile clients: the request sends it as
   * `Authorization: Bearer <token>`, and a response that issues a new one
   * (the first stored value, `login()`, `logout()`, `regenerate()`) carries
   * it in the `Session-Token` header; an empty `Session-Token` means the
   * session ended and the client should drop its token. A bearer app reads
   * no cookie and sets none, and a cookie app ignores `Authorization`; the
   * `csrf` check does not apply to bearer requests (a browser never adds the
   * header on its own), and the cookie options are unused.
   *
   * @default {"cookie"}
   *
   * @example A token API for a mobile app
   * ```ts
   * import { getSession, memoryStore, withSession } from "@tessera/session";
   *
   * const api = withSession(async (req) => {
   *   const session = getSession(req);
   *   if (new URL(req.url).pathname === "/login") await session.login("ada");
   *   return Response.json({ user: session.userId });
   * }, { store: memoryStore(), carrier: "bearer" });
   *
   * const res = await api(new Request("http://localhost/login", { method: "POST" }));
   * const token = res.headers.get("session-token")!;
   * const me = await api(new Request("http://localhost/me", {
   *   headers: { authorization: `Bearer ${token}` },
   * }));
   * console.log(await me.json()); // { user: "ada" }
   * ```
   */
  carrier?: "cookie" | "bearer";
  /**
   * How often a save is tried when concurrent requests keep changing the
   * same session.
   *
   * @default {32}
   */
  maxAttempts?: number;
  /**
   * How long one store call (a read or a commit) may take. A call that does
   * not answer in time fails the request closed with a
   * `SessionStoreTimeoutError` (503 through `onError`) instead of hanging,
   * as remote clients that retry forever would make it.
   *
   * @default {5_000}
   */
  storeTimeout?: number;
  /**
   * Answers a request whose session could not be read or saved, or that the
   * `csrf` check refused (a `CsrfError`, before the handler ran). The
   * handler's response is not sent: the client is never told "saved" when
   * nothing was.
   *
   * @default {a 503 for store errors, a 500 otherwise, logged with console.error; a CsrfError's status (403, or 413) with its message as plain text, not logged}
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>;
  /**
   * Receives lifecycle and audit events (`SessionEvent`): created,
   * login, logout, rotated, renewed, destroyed, expired, revoked, conflict
   * retried, save gave up, CSRF refused, malformed or duplicate cookie.
   * Events carry the session's id, never its token. The listener is called
   * synchronously and not awaited; if it throws (or its promise rejects),
   * the error is reported once with `console.error` and the request goes on.
   *
   * @default {none: no events are built}
   *
   * @example Audit log lines (with `OTEL_DENO=true`, Deno exports them as
   * OpenTelemetry logs)
   * ```ts
   * import { memoryStore, withSession } from "@tessera/session";
   *
   * const app = withSession(() => new Response("ok"), {
   *   store: memoryStore(),
   *   onEvent(event) {
   *     if (event.type === "login" || event.type === "csrf-refused") {
   *       console.info(JSON.stringify(event));
   *     }
   *   },
   * });
   * ```
   */
  onEvent?: SessionEventListener;
}
