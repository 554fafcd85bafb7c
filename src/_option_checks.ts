// Checks of single option values: durations, proxy hops, field lists. Each
// throws a TypeError or RangeError that names the option and the value.
import type { TrustProxyOptions } from "./options.ts";

/** A day in milliseconds. */
export const DAY = 86_400_000;
/** Browsers cap cookie lifetimes at 400 days. */
export const MAX_COOKIE_AGE = 400 * DAY;
/** A shorter timeout is almost always seconds typed as milliseconds: refused
 * without allowShortTimeouts. */
export const SHORTEST_TIMEOUT = 1000;

/** The proxies `trustProxy` trusts, as `withSession` reads them. */
export interface TrustedProxies {
  readonly hops: number;
  readonly header: "x-forwarded-proto" | "forwarded";
}

export function duration(
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

export function trustedProxies(
  value: boolean | number | TrustProxyOptions | undefined,
): TrustedProxies | null {
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

export function fields(
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
