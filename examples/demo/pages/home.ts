/**
 * The start page: what each page shows. It stores nothing, so a first visit
 * gets no cookie.
 *
 * @module
 */
import type { PageContext } from "../context.ts";
import { html } from "../html.ts";
import { t } from "../i18n.ts";
import { renderPage } from "../layout.ts";

/**
 * `GET /`.
 *
 * @param context The request.
 * @returns The start page.
 */
export function home(context: PageContext): Response {
  const { language } = context;
  return renderPage(
    context,
    t(language, "welcome"),
    html`
      <p class="lead">
        Each page below stores something in your session. The data stays on the
        server, in a Deno KV file; your browser holds only a random token in a
        cookie. The panel shows what the session holds after each step.
      </p>
      <ul class="cards">
        <li>
          <a href="/counter">${t(language, "counter")}</a>
          <p>
            Counts your visits with <code>session.update()</code>. Reload it, or
            hammer it from two tabs: no visit is lost.
          </p>
        </li>
        <li>
          <a href="/language">${t(language, "language")}</a>
          <p>
            Stored as <code>language</code>, the one value that survives login
            and logout.
          </p>
        </li>
        <li>
          <a href="/shopping">${t(language, "shopping")}</a>
          <p>
            A list changed in place: tessera notices and saves it, no
            <code>markChanged()</code> needed.
          </p>
        </li>
        <li>
          <a href="/login">${t(language, "login")}</a>
          <p>
            Logging in or out issues a new token and drops everything but the
            language.
          </p>
        </li>
        <li>
          <a href="/devices">${t(language, "devices")}</a>
          <p>
            Once logged in: every browser where you are, and “sign out other
            devices”.
          </p>
        </li>
      </ul>
      <p>
        This page only reads the session (and takes the message a login or
        logout left for it). On a first visit it stores nothing, so there is no
        session yet and no cookie: tessera starts one with the first stored
        value.
      </p>
    `,
  );
}
