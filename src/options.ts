/**
 * The options of `withSession`, and their defaults.
 *
 * @module
 */
import type { SessionEventListener } from "./events.ts";
import { setCookie } from "./_cookie.ts";
import {
  CsrfError,
  type CsrfOptions,
  csrfRefusal,
  resolveCsrf,
  type ResolvedCsrf,
} from "./csrf.ts";
import { TOKEN_LENGTH } from "./_token.ts";
import { SessionStoreError } from "./errors.ts";
import type { SessionStore } from "./store.ts";
import { kvStore } from "./stores/kv.ts";

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

/** Options with defaults applied and checked, computed once per `withSession`. */
export interface ResolvedOptions {
  readonly store: () => SessionStore | Promise<SessionStore>;
  readonly httpsCookie: string;
  readonly httpCookie: string;
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  readonly touchInterval: number;
  readonly cookieMaxAge: number | undefined;
  readonly renewInterval: number | undefined;
  readonly renewGrace: number;
  readonly expiredNotice: number;
  readonly rememberFor: number;
  readonly maxSessionsPerUser: number | undefined;
  /** The shortest duration accepted (1 ms with allowShortTimeouts). */
  readonly shortest: number;
  readonly sameSite: SameSite;
  readonly httpsOnly: boolean;
  readonly persistentFieldsOnLogin: readonly string[];
  readonly persistentFieldsOnLogout: readonly string[];
  /** The trusted proxies, or `null` when `trustProxy` is off. */
  readonly trustProxy: {
    readonly hops: number;
    readonly header: "x-forwarded-proto" | "forwarded";
  } | null;
  readonly clearSiteData: boolean;
  readonly carrier: "cookie" | "bearer";
  /** `null` when CSRF protection is off. */
  readonly csrf: ResolvedCsrf | null;
  readonly maxAttempts: number;
  readonly storeTimeout: number;
  readonly onError: (
    error: unknown,
    request: Request,
  ) => Response | Promise<Response>;
  /** `null` when no one listens. */
  readonly onEvent: SessionEventListener | null;
}

const DAY = 86_400_000;
/** Default idle timeout: 1 hour, as ViUR. */
export const DEFAULT_IDLE_TIMEOUT = 3_600_000;
/** Default absolute timeout: 24 hours. */
export const DEFAULT_ABSOLUTE_TIMEOUT = DAY;
/** Browsers cap cookie lifetimes at 400 days. */
const MAX_COOKIE_AGE = 400 * DAY;
/** A longer timeout is almost certainly a unit mistake (seconds vs ms). */
const MAX_TIMEOUT = 400 * DAY;
/** A shorter one too, the other way round: refused without allowShortTimeouts. */
const SHORTEST_TIMEOUT = 1000;
/** Default store timeout: 5 s, well above a healthy store's milliseconds. */
const DEFAULT_STORE_TIMEOUT = 5_000;
/** A request waiting longer than 10 minutes for its store has no client left. */
const MAX_STORE_TIMEOUT = 600_000;
/** RFC 6265 token characters. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Applies defaults and validates, throwing `TypeError`/`RangeError` that say
 * what to change.
 */
export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `withSession() options must be an object, got ${String(options)}`,
    );
  }
  const cookieName = options.cookieName ?? "session";
  if (typeof cookieName !== "string" || !COOKIE_NAME.test(cookieName)) {
    throw new TypeError(
      `cookieName must be letters, digits or !#$%&'*+-.^_\`|~, got ${
        JSON.stringify(cookieName)
      }`,
    );
  }
  if (/^__(host|secure)-/i.test(cookieName)) {
    throw new TypeError(
      `cookieName must not carry a prefix (tessera adds "__Host-" over HTTPS), got "${cookieName}"`,
    );
  }
  // The longest Set-Cookie tessera can send must fit the 4096 bytes
  // browsers accept: prefix, name, a token, every attribute.
  const longest = setCookie(
    `__Host-${cookieName}`,
    "A".repeat(TOKEN_LENGTH),
    { secure: true, sameSite: "Strict" },
    MAX_COOKIE_AGE / 1000,
  );
  if (longest.length > 4096) {
    throw new RangeError(
      `cookieName is ${cookieName.length} characters; its cookie would exceed the 4096 bytes browsers accept: use a shorter name`,
    );
  }
  for (const name of ["allowShortTimeouts", "clearSiteData"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(
        `${name} must be true or false, got ${String(value)}`,
      );
    }
  }
  const shortest = options.allowShortTimeouts ? 1 : SHORTEST_TIMEOUT;
  const absoluteTimeout = duration(
    "absoluteTimeout",
    options.absoluteTimeout,
    DEFAULT_ABSOLUTE_TIMEOUT,
    MAX_TIMEOUT,
    shortest,
    shortest === SHORTEST_TIMEOUT,
  );
  const idleTimeout = duration(
    "idleTimeout",
    options.idleTimeout,
    Math.min(DEFAULT_IDLE_TIMEOUT, absoluteTimeout),
    MAX_TIMEOUT,
    shortest,
    shortest === SHORTEST_TIMEOUT,
  );
  if (idleTimeout > absoluteTimeout) {
    throw new RangeError(
      `idleTimeout (${idleTimeout} ms) is longer than absoluteTimeout (${absoluteTimeout} ms), so it could never take effect: lower idleTimeout or raise absoluteTimeout`,
    );
  }
  const touchInterval = duration(
    "touchInterval",
    options.touchInterval,
    Math.min(300_000, idleTimeout),
    idleTimeout,
    0,
  );
  const cookieMaxAge = options.cookieMaxAge === undefined
    ? undefined
    : duration("cookieMaxAge", options.cookieMaxAge, 0, MAX_COOKIE_AGE, 1000);
  if (cookieMaxAge !== undefined && cookieMaxAge > absoluteTimeout) {
    throw new RangeError(
      `cookieMaxAge (${cookieMaxAge} ms) is longer than absoluteTimeout (${absoluteTimeout} ms): the cookie would outlive its session and carry a dead token; lower cookieMaxAge or raise absoluteTimeout`,
    );
  }
  const carrier = options.carrier ?? "cookie";
  if (carrier !== "cookie" && carrier !== "bearer") {
    throw new TypeError(
      `carrier must be "cookie" or "bearer", got ${JSON.stringify(carrier)}`,
    );
  }
  const renewInterval = options.renewInterval === undefined
    ? undefined
    : duration(
      "renewInterval",
      options.renewInterval,
      0,
      absoluteTimeout,
      shortest,
      shortest === SHORTEST_TIMEOUT,
    );
  const renewGrace = duration(
    "renewGrace",
    options.renewGrace,
    30_000,
    600_000,
    shortest,
    shortest === SHORTEST_TIMEOUT,
  );
  const expiredNotice = duration(
    "expiredNotice",
    options.expiredNotice,
    0,
    idleTimeout,
    0,
  );
  const rememberFor = lifetime(
    "rememberFor",
    options.rememberFor,
    30 * DAY,
    shortest,
  );
  const maxSessionsPerUser = options.maxSessionsPerUser;
  if (
    maxSessionsPerUser !== undefined &&
    (!Number.isSafeInteger(maxSessionsPerUser) || maxSessionsPerUser < 1 ||
      maxSessionsPerUser > 10_000)
  ) {
    throw new RangeError(
      `maxSessionsPerUser must be an integer from 1 to 10000, got ${
        String(maxSessionsPerUser)
      }`,
    );
  }
  const sameSite = options.sameSite ?? "Lax";
  if (sameSite !== "Strict" && sameSite !== "Lax" && sameSite !== "None") {
    throw new TypeError(
      `sameSite must be "Strict", "Lax" or "None", got ${
        JSON.stringify(sameSite)
      }`,
    );
  }
  for (const name of ["httpsOnly"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(
        `${name} must be true or false, got ${String(value)}`,
      );
    }
  }
  const httpsOnly = options.httpsOnly ?? false;
  if (sameSite === "None" && !httpsOnly) {
    throw new RangeError(
      `sameSite "None" needs a Secure cookie, which plain HTTP cannot carry: set httpsOnly: true, or use "Lax"`,
    );
  }
  const trustProxy = trustedProxies(options.trustProxy);
  const maxAttempts = options.maxAttempts ?? 32;
  if (
    !Number.isSafeInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000
  ) {
    throw new RangeError(
      `maxAttempts must be an integer from 1 to 1000, got ${maxAttempts}`,
    );
  }
  const storeTimeout = duration(
    "storeTimeout",
    options.storeTimeout,
    DEFAULT_STORE_TIMEOUT,
    MAX_STORE_TIMEOUT,
  );
  const onError = options.onError ?? defaultOnError;
  if (typeof onError !== "function") {
    throw new TypeError(`onError must be a function, got ${String(onError)}`);
  }
  const onEvent = options.onEvent ?? null;
  if (onEvent !== null && typeof onEvent !== "function") {
    throw new TypeError(`onEvent must be a function, got ${String(onEvent)}`);
  }
  return {
    store: storeGetter(options.store),
    httpsCookie: `__Host-${cookieName}`,
    httpCookie: cookieName,
    idleTimeout,
    absoluteTimeout,
    touchInterval,
    cookieMaxAge,
    renewInterval,
    renewGrace,
    expiredNotice,
    rememberFor,
    maxSessionsPerUser,
    shortest,
    sameSite,
    httpsOnly,
    persistentFieldsOnLogin: fields(
      "persistentFieldsOnLogin",
      options.persistentFieldsOnLogin,
    ),
    persistentFieldsOnLogout: fields(
      "persistentFieldsOnLogout",
      options.persistentFieldsOnLogout,
    ),
    trustProxy,
    clearSiteData: options.clearSiteData ?? false,
    carrier,
    csrf: resolveCsrf(options.csrf),
    maxAttempts,
    storeTimeout,
    onError,
    onEvent,
  };
}

function duration(
  name: string,
  value: number | undefined,
  fallback: number,
  max: number,
  min = 1,
  unitHint = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(
      `${name} must be a number of milliseconds, got ${String(value)}`,
    );
  }
  if (unitHint && value > 0 && value < min) {
    throw new RangeError(
      `${name} is ${value} ms: durations are milliseconds, so this is under a second (for ${value} seconds write ${
        value * 1000
      }); sub-second timeouts are refused unless allowShortTimeouts: true is set, for tests`,
    );
  }
  if (value < min || value > max) {
    throw new RangeError(
      `${name} must be from ${min} to ${max} milliseconds, got ${value}`,
    );
  }
  return value;
}

/** A session's own lifetime: it becomes a cookie's Max-Age, so at most the
 * browsers' 400 days. */
export function lifetime(
  name: string,
  value: number | undefined,
  fallback: number,
  shortest: number,
): number {
  return duration(
    name,
    value,
    fallback,
    MAX_COOKIE_AGE,
    shortest,
    shortest === SHORTEST_TIMEOUT,
  );
}

function trustedProxies(
  value: boolean | number | TrustProxyOptions | undefined,
): ResolvedOptions["trustProxy"] {
  if (value === undefined || value === false) return null;
  if (value === true) return { hops: 1, header: "x-forwarded-proto" };
  if (typeof value === "number") {
    return { hops: hopCount(value), header: "x-forwarded-proto" };
  }
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `trustProxy must be true, false, the number of proxies in front of the app (1 to 16) or { hops, header }, got ${
        String(value)
      }`,
    );
  }
  const header = value.header ?? "x-forwarded-proto";
  if (header !== "x-forwarded-proto" && header !== "forwarded") {
    throw new TypeError(
      `trustProxy.header must be "x-forwarded-proto" or "forwarded", got ${
        JSON.stringify(header)
      }`,
    );
  }
  return { hops: hopCount(value.hops ?? 1), header };
}

function hopCount(value: unknown): number {
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 ||
    value > 16
  ) {
    throw new TypeError(
      `trustProxy must be true, false or the number of proxies in front of the app (1 to 16), got ${
        String(value)
      }`,
    );
  }
  return value;
}

function fields(
  name: string,
  value: readonly string[] | undefined,
): readonly string[] {
  if (value === undefined) return ["language"];
  if (
    !Array.isArray(value) || !value.every((field) => typeof field === "string")
  ) {
    throw new TypeError(
      `${name} must be an array of strings, got ${String(value)}`,
    );
  }
  return [...value];
}

function storeGetter(
  store: SessionStore | undefined,
): () => SessionStore | Promise<SessionStore> {
  if (store !== undefined) {
    if (
      typeof store !== "object" || store === null ||
      typeof store.get !== "function" ||
      typeof store.commit !== "function"
    ) {
      throw new TypeError(
        `store must be a SessionStore such as kvStore(kv) or memoryStore(), got ${
          String(store)
        }`,
      );
    }
    return () => store;
  }
  const deno =
    (globalThis as { Deno?: { openKv?: (path?: string) => Promise<unknown> } })
      .Deno;
  if (typeof deno?.openKv !== "function") {
    throw new TypeError(
      'withSession() needs a store on this runtime: pass { store: kvStore(await openKv("sessions.db")) } ' +
        "with openKv from the @deno/kv package, or { store: memoryStore() }",
    );
  }
  const openKv = deno.openKv;
  // Opened on first need, never at import or at withSession() time.
  let opening: Promise<SessionStore> | undefined;
  let opened: SessionStore | undefined;
  return () =>
    opened ?? (opening ??= openKv().then(
      (kv) => opened = kvStore(kv as Parameters<typeof kvStore>[0]),
      (error) => {
        opening = undefined;
        throw new SessionStoreError("Could not open the default Deno KV", {
          cause: error,
        });
      },
    ));
}

function defaultOnError(error: unknown): Response {
  if (error instanceof CsrfError) return csrfRefusal(error);
  console.error("tessera: session error:", error);
  const status = error instanceof SessionStoreError ? 503 : 500;
  return new Response(
    status === 503 ? "Service Unavailable" : "Internal Server Error",
    {
      status,
      headers: status === 503 ? { "retry-after": "1" } : {},
    },
  );
}
