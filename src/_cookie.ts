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
  // (Cookie names are never empty: an empty one would be found everywhere.)
  if (header === null || name === "") return NONE;
  let found: string | undefined;
  const length = header.length;
  // Only where the name occurs can a pair be named by it: those places are
  // found by the native search, not by walking the header one character
  // at a time. An occurrence names a pair when only blanks separate it
  // from the pair's start (the header's or a ";") and from an "=" after
  // it; a name holds neither "=" nor ";", so that "=" is the pair's first.
  // Blanks before and after distinct occurrences never overlap: linear.
  for (
    let at = header.indexOf(name);
    at !== -1;
    at = header.indexOf(name, at + 1)
  ) {
    let before = at;
    while (before > 0 && isSpace(header.charCodeAt(before - 1))) before--;
    if (before > 0 && header.charCodeAt(before - 1) !== 59 /* ; */) continue;
    let eq = at + name.length;
    while (eq < length && isSpace(header.charCodeAt(eq))) eq++;
    if (eq === length || header.charCodeAt(eq) !== 61 /* = */) continue;
    if (found !== undefined) return MANY;
    const end = header.indexOf(";", eq + 1);
    found = trim(header, eq + 1, end === -1 ? length : end);
  }
  return found === undefined ? NONE : { kind: "one", value: found };
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
