// The Set-Cookie values a response needs for its session: a new or
// refreshed token, a cleared cookie when the session ended, and the
// plain-HTTP cookie erased over HTTPS.
import { clearCookie, type CookieAttributes, setCookie } from "./_cookie.ts";
import type { StoredSession } from "./_stored_session.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";

const NO_COOKIES: readonly string[] = [];

/** The `Set-Cookie` values for `session` after its save. */
export function sessionCookies(
  session: StoredSession,
  options: ResolvedOptions,
): readonly string[] {
  const token = session.token;
  // Most responses carry none: no array, no attributes, no state read.
  if (
    (token === null || (token === session.presented && !session.wrote)) &&
    !session.cleared && !session.erasedHttp
  ) return NO_COOKIES;
  // Asked only now: most requests never need their channel.
  const https = session.https;
  const cookieName = session.cookieName;
  const out: string[] = [];
  const attributes: CookieAttributes = {
    secure: https,
    sameSite: options.sameSite,
  };
  const { created, life = null } = session.values.state;
  // A session with its own lifetime (remember me) has a persistent cookie
  // that ends with it; others follow cookieMaxAge.
  const age = life !== null
    ? created + life - Date.now()
    : options.cookieMaxAge;
  if (
    token !== null &&
    (token !== session.presented ||
      (session.wrote && age !== undefined && !session.forwarded))
  ) {
    out.push(
      setCookie(
        cookieName,
        token,
        attributes,
        age === undefined
          ? undefined
          : life !== null
          ? Math.max(1, Math.ceil(age / 1000))
          : Math.floor(age / 1000),
      ),
    );
  } else if (token === null && session.cleared && session.presented !== null) {
    out.push(clearCookie(cookieName, attributes));
  }
  if (session.erasedHttp) {
    out.push(
      clearCookie(options.httpCookie, {
        secure: false,
        sameSite: options.sameSite,
      }),
    );
  }
  return out;
}
