/**
 * `resolveOptions`: the options of `withSession` with defaults applied and
 * checked, once per `withSession`.
 *
 * @module
 */
import type { SessionEventListener } from "./events.ts";
import { setCookie } from "./_cookie.ts";
import { resolveCsrf, type ResolvedCsrf } from "./csrf.ts";
import { TOKEN_LENGTH } from "./_token.ts";
import {
  DAY,
  duration,
  fields,
  lifetime,
  MAX_COOKIE_AGE,
  SHORTEST_TIMEOUT,
  type TrustedProxies,
  trustedProxies,
} from "./_option_checks.ts";
import { defaultOnError, storeGetter } from "./_option_defaults.ts";
import type { SameSite, SessionOptions } from "./options.ts";
import type { SessionStore } from "./store.ts";

/** Options with defaults applied and checked, computed once per `withSession`. */
export interface ResolvedOptions {
  readonly store: () => SessionStore | Promise<SessionStore>;
  readonly httpsCookie: string;
  readonly httpCookie: string;
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  /** Both timeouts, as every record written stores them: one array per
   * `withSession`, not one per save. */
  readonly limits: readonly [idle: number, absolute: number];
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
  readonly trustProxy: TrustedProxies | null;
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

/** Default idle timeout: 1 hour, as ViUR. */
export const DEFAULT_IDLE_TIMEOUT = 3_600_000;
/** Default absolute timeout: 24 hours. */
export const DEFAULT_ABSOLUTE_TIMEOUT = DAY;
/** A longer timeout is almost certainly a unit mistake (seconds vs ms). */
const MAX_TIMEOUT = 400 * DAY;
/** Default store timeout: 5 s, well above a healthy store's milliseconds. */
export const DEFAULT_STORE_TIMEOUT = 5_000;
/** A request waiting longer than 10 minutes for its store has no client left. */
export const MAX_STORE_TIMEOUT = 600_000;
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
  for (
    const name of ["allowShortTimeouts", "clearSiteData", "httpsOnly"] as const
  ) {
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
    limits: [idleTimeout, absoluteTimeout],
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
