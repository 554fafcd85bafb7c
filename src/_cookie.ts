// Reading one cookie out of a Cookie header, and writing Set-Cookie values.

/** What reading a session cookie found. */
export type CookieLookup =
  | { readonly kind: "none" }
  | { readonly kind: "one"; readonly value: string }
  | { readonly kind: "many" };

const NONE: CookieLookup = { kind: "none" };
const MANY: CookieLookup = { kind: "many" };

/**
 * Finds the cookie named exactly `name` (case-sensitive). Total and linear:
 * any header string gives an answer and nothing throws. Pairs are split on
 * `;` only: a value is everything after the first `=` up to the next `;`,
 * commas included. (A comma split would let a cookie planted over plain HTTP
 * from another port or a sibling subdomain, `x=1,__Host-session=T`, pose as
 * a `__Host-` cookie; Deno and Bun join repeated Cookie lines with `; `.)
 * More than one cookie of the name is reported as "many", never resolved by
 * order, because a sibling subdomain can plant a second one.
 */
export function findCookie(header: string | null, name: string): CookieLookup {
  if (header === null || header.indexOf(name) === -1) return NONE;
  let found: string | undefined;
  let start = 0;
  const length = header.length;
  while (start < length) {
    // One pass per pair: find its end and its first "=" together, so a
    // header of separators or of pairs without "=" stays linear.
    let end = start;
    let eq = -1;
    while (end < length) {
      const c = header.charCodeAt(end);
      if (c === 59 /* ; */) break;
      if (c === 61 /* = */ && eq === -1) eq = end;
      end++;
    }
    if (eq !== -1 && isName(header, start, eq, name)) {
      if (found !== undefined) return MANY;
      found = trim(header, eq + 1, end);
    }
    start = end + 1;
  }
  return found === undefined ? NONE : { kind: "one", value: found };
}

/** Whether `s` from `from` to `to`, trimmed, is `name`: compared in place,
 * with no string cut out for every pair of the header. */
function isName(s: string, from: number, to: number, name: string): boolean {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return to - from === name.length && s.startsWith(name, from);
}

function trim(s: string, from: number, to: number): string {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return s.slice(from, to);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** The attributes shared by a session cookie and its clearing. */
export interface CookieAttributes {
  readonly secure: boolean;
  readonly sameSite: string;
}

/** A `Set-Cookie` value that stores `value`. */
export function setCookie(
  name: string,
  value: string,
  attributes: CookieAttributes,
  maxAgeSeconds: number | undefined,
): string {
  const maxAge = maxAgeSeconds === undefined
    ? ""
    : `; Max-Age=${maxAgeSeconds}`;
  return `${name}=${value}; Path=/${
    attributes.secure ? "; Secure" : ""
  }; HttpOnly; SameSite=${attributes.sameSite}${maxAge}`;
}

/** A `Set-Cookie` value that makes the browser drop the cookie. */
export function clearCookie(
  name: string,
  attributes: CookieAttributes,
): string {
  return setCookie(name, "", attributes, 0);
}
