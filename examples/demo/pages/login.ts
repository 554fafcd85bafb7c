/**
 * Login and logout with demo users. Authentication is not the point (there
 * are no passwords); what `login()` and `logout()` do to the session is.
 *
 * @module
 */
import type { PageContext } from "../context.ts";
import { deviceSummary, type LoginMetadata } from "../device.ts";
import { csrfField, readForm } from "../form.ts";
import { html } from "../html.ts";
import { messages, t } from "../i18n.ts";
import { renderPage } from "../layout.ts";
import { setNotice } from "../notice.ts";
import { radioButtons } from "../radio.ts";
import { problem, seeOther } from "../responses.ts";
import { DEMO_USERS, isDemoUser } from "../users.ts";

/**
 * `GET /login`: pick a demo user.
 *
 * @param context The request.
 * @returns The login page.
 */
export function loginForm(context: PageContext): Response {
  const { session, language } = context;
  const current = session.userId;
  const users = radioButtons(
    "user",
    DEMO_USERS.map((user) => ({ value: user, label: user })),
    current ?? DEMO_USERS[0]!,
  );
  const status = current === null ? html`<p>You are not logged in.</p>` : html`
    <p>
      You are logged in as <strong>${current}</strong>. Logging in again
      switches the user.
    </p>
  `;
  return renderPage(
    context,
    t(language, "login"),
    html`
      ${status}
      <form method="post" action="/login" class="stack">
        ${csrfField(session)}
        <fieldset>
          <legend>Demo user (no password: this demo authenticates nobody)</legend>
          ${users}
        </fieldset>
        <label>
          <input type="checkbox" name="remember" value="on">
          Remember me on this device
        </label>
        <button type="submit">${t(language, "login")}</button>
      </form>
      <p>
        Logging in calls <code>session.login(user)</code>: the session gets a new
        token (watch the cookie in the panel), and every value except
        <code>language</code> is dropped, so nothing a visitor stored before
        logging in carries over. Logging out does the same, and when no language
        was chosen it removes the session and its cookie altogether.
      </p>
      <p>
        The login also records which browser this is
        (<code>session.login(user, { device })</code>), for
        <a href="/devices">${t(language, "devices")}</a>, and leaves a message
        for the next page with <code>session.flash()</code>.
      </p>
      <p>
        "Remember me" calls <code>session.login(user, metadata, { remember:
        true })</code>: that session gets a persistent cookie (<code>Max-Age</code>)
        and its own, longer lifetime; without it the cookie ends with the
        browser session.
      </p>
    `,
  );
}

/**
 * `POST /login`: binds the chosen user to a fresh session.
 *
 * @param context The request.
 * @returns A redirect to the start page, which welcomes the user.
 */
export async function login(context: PageContext): Promise<Response> {
  const form = await readForm(context.request);
  const user = form?.get("user");
  if (!isDemoUser(user)) {
    return problem(400, `Unknown user: pick one of ${DEMO_USERS.join(", ")}`);
  }
  const metadata: LoginMetadata = {
    device: deviceSummary(context.request.headers.get("user-agent")),
  };
  // Recorded with the session, for the devices page to show.
  await context.session.login(user, metadata, {
    remember: form?.get("remember") === "on",
  });
  // After login(): it started a new session, which must carry the message.
  setNotice(context.session, messages(context.language).welcome(user));
  return seeOther("/");
}

/**
 * `POST /logout`: ends the user's session, keeping the language.
 *
 * @param context The request.
 * @returns A redirect to the start page, which says so.
 */
export async function logout(context: PageContext): Promise<Response> {
  await context.session.logout();
  setNotice(context.session, messages(context.language).signedOut);
  return seeOther("/");
}
