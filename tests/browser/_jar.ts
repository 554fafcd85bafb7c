// The browser's cookie jar, read raw over the DevTools protocol. Playwright's
// own context.cookies() reports SameSite=Lax for a cookie that set none,
// which would let a missing attribute pass; the protocol reports it as is.
import type { BrowserContext, Page } from "playwright-core";

/** A cookie as Chromium stored it. */
export interface JarCookie {
  readonly name: string;
  readonly value: string;
  /** No leading dot: a host-only cookie, set without `Domain`. */
  readonly domain: string;
  readonly path: string;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  /** Absent when the cookie set no `SameSite`. */
  readonly sameSite?: "Strict" | "Lax" | "None";
  /** `true` for a browser-session cookie (no `Max-Age` or `Expires`). */
  readonly session: boolean;
  /** When it expires, seconds since the epoch; -1 for a session cookie. */
  readonly expires: number;
}

/**
 * Every cookie the browser holds for a host.
 *
 * @param context The browser context.
 * @param page Any open page of it (the protocol session attaches to one).
 * @param host The cookies' domain.
 */
export async function cookiesFor(
  context: BrowserContext,
  page: Page,
  host: string,
): Promise<JarCookie[]> {
  const cdp = await context.newCDPSession(page);
  try {
    const { cookies } = await cdp.send("Network.getAllCookies") as {
      cookies: JarCookie[];
    };
    return cookies.filter((cookie) =>
      cookie.domain === host || cookie.domain === `.${host}`
    );
  } finally {
    await cdp.detach();
  }
}
