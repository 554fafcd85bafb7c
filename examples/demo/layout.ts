/**
 * The frame around every page: header, navigation, account, the message a
 * redirect left, session panel.
 *
 * @module
 */
import type { PageContext } from "./context.ts";
import { csrfField } from "./form.ts";
import { type Html, html } from "./html.ts";
import { t } from "./i18n.ts";
import { sessionPanel } from "./panel.ts";

/**
 * Renders a full page.
 *
 * @param context The request.
 * @param title The page's heading.
 * @param body The page's content.
 * @returns A 200 HTML response.
 */
export function renderPage(
  context: PageContext,
  title: string,
  body: Html,
): Response {
  const markup = html`
    <!doctype html>
    <html lang="${context.language}">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title} · tessera demo</title>
        <link rel="stylesheet" href="/style.css">
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">tessera <span>session demo</span></a>
          <nav>${navigation(context)}</nav>
          ${account(context)}
        </header>
        <div class="layout">
          <main>
            ${notice(context)}
            <h1>${title}</h1>
            ${body}
          </main>
          ${sessionPanel(context)}
        </div>
        <footer>${channelSwitch(context)}</footer>
      </body>
    </html>
  `;
  return new Response(markup.value.trim() + "\n", {
    headers: {
      "content-type": "text/html; charset=utf-8",
      // Every page shows the session; a cached copy would show an old one.
      "cache-control": "no-store",
    },
  });
}

function navigation(
  { nav, url, language, session }: PageContext,
): Html[] {
  const shown = nav.filter((entry) =>
    !entry.userOnly || session.userId !== null
  );
  return shown.map(({ path, label }) => {
    const text = t(language, label);
    return path === url.pathname
      ? html`<a href="${path}" aria-current="page">${text}</a>`
      : html`<a href="${path}">${text}</a>`;
  });
}

/** The message a redirect left, shown once: it was taken from the session. */
function notice({ notice }: PageContext): Html {
  return notice === undefined
    ? html``
    : html`<p class="notice" id="notice" role="status">${notice}</p>`;
}

function account({ session, language }: PageContext): Html {
  if (session.userId === null) {
    return html`<a class="account" href="/login">${t(language, "login")}</a>`;
  }
  return html`
    <form class="account" method="post" action="/logout">
      ${csrfField(session)}
      <span class="user">${session.userId}</span>
      <button type="submit">${t(language, "logout")}</button>
    </form>
  `;
}

function channelSwitch({ https, otherChannel }: PageContext): Html {
  const here = https ? "HTTPS" : "HTTP";
  if (otherChannel === undefined) {
    return html`
      <p>
        Served over ${here}. Start the demo with <code>--https-port</code> to
        see the HTTP → HTTPS rules.
      </p>
    `;
  }
  const there = https ? "HTTP" : "HTTPS";
  const href = otherChannel.href;
  return html`
    <p>
      Served over ${here}.
      <a href="${href}" id="other-channel">Open this page over ${there}</a>:
      the two channels never share a session.
    </p>
  `;
}
