/**
 * The panel beside every page: what the session holds, whose it is, and
 * which cookie carried it.
 *
 * @module
 */
import type { PageContext } from "./context.ts";
import { type Html, html } from "./html.ts";
import {
  HTTP_COOKIE,
  HTTPS_COOKIE,
  sentCookies,
  shortToken,
} from "./sent_cookies.ts";

/**
 * Renders the session panel. It reads the session after the page changed
 * it, so it shows what this response saves.
 *
 * @param context The request.
 * @returns The panel's markup.
 */
export function sessionPanel(context: PageContext): Html {
  const { session, https } = context;
  const data = Object.fromEntries(
    session.keys().map((key) => [key, session.get(key)]),
  );
  return html`
    <aside class="panel" id="session-panel" aria-label="Session">
      <h2>Session</h2>
      <dl>
        <dt>Channel</dt>
        <dd data-field="channel">${https ? "HTTPS" : "HTTP"}</dd>
        <dt>Cookie</dt>
        <dd data-field="cookie">${carrier(context)}</dd>
        <dt>User</dt>
        <dd data-field="user">${session.userId ?? "—"}</dd>
      </dl>
      <h3>Stored values</h3>
      <pre data-field="data">${JSON.stringify(data, null, 2)}</pre>
      ${otherCookie(context)}
    </aside>
  `;
}

function carrier({ request, session, https }: PageContext): Html {
  const name = https ? HTTPS_COOKIE : HTTP_COOKIE;
  const sent = sentCookies(request)[https ? "https" : "http"];
  const cookie = sent === undefined
    ? html``
    : html`<code>${name}</code> <code class="token">${shortToken(sent)}</code>`;
  if (!session.isNew && sent !== undefined) {
    const stores = session.keys().length > 0 || session.userId !== null;
    if (session.id !== null || stores) return cookie;
    // Loaded, then destroyed by this request: see the notice in app.ts.
    return html`
      ${cookie} held only the message above. Now that it is shown, the session
      is removed and this response clears the cookie.
    `;
  }
  const stale = sent === undefined ? html`` : html`
    ${cookie} named no live session (ended, expired or from the other
    channel).
  `;
  const stores = session.keys().length > 0 || session.userId !== null;
  if (stores) {
    return html`${stale} New session: this response sets <code>${name}</code>.`;
  }
  return html`
    ${stale} None yet: nothing is stored, and no cookie is set, until the first
    value is.
  `;
}

/** The other channel's cookie, when the browser sent it too. */
function otherCookie({ request, https }: PageContext): Html {
  const sent = sentCookies(request);
  if (https && sent.http !== undefined) {
    return html`
      <p class="note" data-field="other-cookie">
        The plain-HTTP cookie <code>${HTTP_COOKIE}</code> came along. A session
        started over HTTP never crosses to HTTPS: tessera erases the session it
        names.
      </p>
    `;
  }
  if (!https && sent.https !== undefined) {
    return html`
      <p class="note" data-field="other-cookie">
        The browser sent <code>${HTTPS_COOKIE}</code> over HTTP too (browsers
        do, to <code>localhost</code>). tessera never reads an HTTPS session
        over HTTP.
      </p>
    `;
  }
  return html``;
}
