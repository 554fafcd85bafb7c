/**
 * The demo as one fetch handler: static files, then every page behind
 * `withSession`.
 *
 * @module
 */
import {
  getSession,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "@tessera/session";
import type { NavEntry, PageContext } from "./context.ts";
import { isLanguage, messages } from "./i18n.ts";
import { takeNotice } from "./notice.ts";
import { problem } from "./responses.ts";
import { ROUTES } from "./routes.ts";
import { COOKIE_NAME } from "./sent_cookies.ts";
import type { DemoData } from "./session_data.ts";

/** The ports the demo listens on, for the link to the other channel. */
export interface ChannelPorts {
  http?: number;
  https?: number;
}

/** Options of {@link createApp}. */
export interface DemoAppOptions {
  /** Where sessions are kept. */
  readonly store: SessionStore;
  /**
   * Read on every request, not copied: the servers fill it in once they
   * listen, which with port 0 is after the app was built.
   */
  readonly ports: Readonly<ChannelPorts>;
  /**
   * Session timeouts instead of the defaults (the browser tests let a
   * session expire in seconds).
   */
  readonly timeouts?: DemoTimeouts;
}

/** The session timeouts the demo can be started with. */
export type DemoTimeouts = Pick<
  SessionOptions,
  "idleTimeout" | "absoluteTimeout" | "allowShortTimeouts"
>;

const STYLE = new URL("./static/style.css", import.meta.url);

/**
 * Builds the demo's handler.
 *
 * @param options The store and the ports.
 * @returns A handler for `Deno.serve`.
 */
export async function createApp(
  options: DemoAppOptions,
): Promise<(request: Request) => Promise<Response>> {
  const nav: NavEntry[] = ROUTES.flatMap((route) =>
    route.nav === undefined ? [] : [{
      path: route.path,
      label: route.nav,
      userOnly: route.userOnly ?? false,
    }]
  );
  const css = await Deno.readTextFile(STYLE);

  const pages = withSession(async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const route = ROUTES.find((r) =>
      r.path === url.pathname && r.method === request.method
    );
    if (route === undefined) {
      return ROUTES.some((r) => r.path === url.pathname)
        ? problem(405, `${request.method} is not allowed here`)
        : problem(404, `No page at ${url.pathname}`);
    }
    const session = getSession<DemoData>(request);
    // Pages are the GET routes; a POST only redirects, and must not swallow
    // a message meant for the page after it.
    let notice = request.method === "GET" ? takeNotice(session) : undefined;
    if (
      notice !== undefined && session.userId === null &&
      session.keys().length === 0
    ) {
      // The message was all this session held (a logout that kept nothing
      // leaves a session only to carry it): now that it is shown, remove
      // the session and its cookie, as the logout itself would have.
      await session.destroy();
    }
    const stored = session.get("language");
    if (notice === undefined && session.rejected === "expired") {
      // The cookie named a session that ended by itself: say so, rather
      // than silently showing a signed-out page (expiredNotice, below).
      // The session is gone, so this visit's language is the default.
      notice = messages("en").sessionExpired;
    }
    const https = url.protocol === "https:";
    const context: PageContext = {
      request,
      url,
      session,
      store: options.store,
      notice,
      language: isLanguage(stored) ? stored : "en",
      https,
      otherChannel: otherChannel(url, options.ports),
      nav,
    };
    return await route.handle(context);
  }, {
    store: options.store,
    cookieName: COOKIE_NAME,
    ...options.timeouts,
    // Ended sessions stay recognisable for this long, so a visitor coming
    // back after the idle timeout reads "your session expired" (at most
    // idleTimeout). Deno KV collects expired records lazily anyway; on
    // --redis they would vanish at their deadline without this.
    expiredNotice: Math.min(
      options.timeouts?.idleTimeout ?? 3_600_000,
      options.timeouts?.absoluteTimeout ?? 3_600_000,
      3_600_000,
    ),
    // Every form carries session.csrfToken() (form.ts): posts without it,
    // or from another site, are refused with 403 before a page runs.
    csrf: true,
  });

  return (request) => {
    // Static files need no session: serving them before withSession spares
    // a store read for every stylesheet request that carries a cookie.
    if (new URL(request.url).pathname === "/style.css") {
      return Promise.resolve(
        new Response(css, {
          headers: {
            "content-type": "text/css; charset=utf-8",
            "cache-control": "no-cache",
          },
        }),
      );
    }
    return pages(request);
  };
}

/** The same page on the other channel, when the demo serves both. */
function otherChannel(
  url: URL,
  ports: Readonly<ChannelPorts>,
): URL | undefined {
  const https = url.protocol === "https:";
  const port = https ? ports.http : ports.https;
  if (port === undefined) return undefined;
  const other = new URL(url.pathname + url.search, url);
  other.protocol = https ? "http:" : "https:";
  other.port = String(port);
  return other;
}
