/**
 * Which session cookies the browser sent, for the panel to show. tessera
 * reads the cookies itself; the demo looks only to explain what happened.
 *
 * @module
 */

/** The `cookieName` the demo gives `withSession` (tessera's default). */
export const COOKIE_NAME = "session";

/** The cookie tessera uses over HTTPS: `__Host-` pins it to this host, path `/`, Secure. */
export const HTTPS_COOKIE = `__Host-${COOKIE_NAME}`;

/** The cookie tessera uses over plain HTTP. */
export const HTTP_COOKIE = COOKIE_NAME;

/** The session cookies in one request, by name. */
export interface SentCookies {
  readonly https: string | undefined;
  readonly http: string | undefined;
}

/**
 * Reads both session cookies from a request's `Cookie` header.
 *
 * @param request The request.
 * @returns Each cookie's value, or `undefined` when it was not sent.
 */
export function sentCookies(request: Request): SentCookies {
  const found = new Map<string, string>();
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    // The first wins, as in most cookie parsers; the panel only displays it.
    if (!found.has(name)) found.set(name, pair.slice(eq + 1).trim());
  }
  return { https: found.get(HTTPS_COOKIE), http: found.get(HTTP_COOKIE) };
}

/**
 * A cookie value cut short: enough to tell two tokens apart on screen
 * without putting a whole live token into the page.
 *
 * @param token The cookie value.
 * @returns Its first 8 characters and an ellipsis.
 */
export function shortToken(token: string): string {
  return token.length <= 8 ? token : `${token.slice(0, 8)}…`;
}
