/**
 * The bearer carrier (`carrier: "bearer"`): the token read from
 * `Authorization: Bearer <token>`, and a new one sent back in the
 * `Session-Token` response header instead of a cookie.
 *
 * @module
 */
import type { StoredSession } from "./_stored_session.ts";
import { isWellFormedToken } from "./_token.ts";

/**
 * The response header in which `carrier: "bearer"` sends a new session
 * token: after the first stored value, `login()`, `logout()` and
 * `regenerate()`. An empty value means the session ended: drop the token.
 *
 * @example Keeping the token a response hands out
 * ```ts
 * import { SESSION_TOKEN_HEADER } from "@tessera/session";
 *
 * let token: string | null = null;
 * function remember(res: Response): void {
 *   const issued = res.headers.get(SESSION_TOKEN_HEADER);
 *   if (issued !== null) token = issued === "" ? null : issued;
 * }
 * remember(new Response(null, { headers: { [SESSION_TOKEN_HEADER]: "" } }));
 * console.log(token); // null
 * ```
 */
export const SESSION_TOKEN_HEADER = "session-token";

/** The well-formed token of an `Authorization: Bearer` header, or `null`. */
export function bearerToken(authorization: string | null): string | null {
  if (authorization === null) return null;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return match !== null && isWellFormedToken(match[1]!) ? match[1]! : null;
}

/**
 * The `Session-Token` value a response needs: the new token, `""` when the
 * presented session ended with none in its place, or `undefined`.
 */
export function tokenHeader(session: StoredSession): string | undefined {
  const token = session.token;
  if (token !== null) return token === session.presented ? undefined : token;
  return session.cleared && session.presented !== null ? "" : undefined;
}
