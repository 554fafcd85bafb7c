/**
 * "Your devices": the logged-in user's live sessions, from the per-user
 * index `login()` keeps, and signing them out: one, or all but this one.
 * The page shows login metadata and times, never a token; the session ids
 * it posts back are hashes of tokens, useless as cookies.
 *
 * @module
 */
import {
  listSessions,
  revokeSession,
  revokeUserSessions,
  type UserSession,
} from "@tessera/session";
import type { PageContext } from "../context.ts";
import { deviceOf } from "../device.ts";
import { readField } from "../form.ts";
import { type Html, html } from "../html.ts";
import { t } from "../i18n.ts";
import { renderPage } from "../layout.ts";
import { setNotice } from "../notice.ts";
import { problem, seeOther } from "../responses.ts";

/**
 * `GET /devices`: where the user is signed in.
 *
 * @param context The request.
 * @returns The devices page.
 */
export async function devices(context: PageContext): Promise<Response> {
  const { session, store, language } = context;
  const title = t(language, "devices");
  const user = session.userId;
  if (user === null) {
    return renderPage(
      context,
      title,
      html`
        <p>
          You are not logged in. <a href="/login">${t(language, "login")}</a>
          to see the devices where you are signed in.
        </p>
      `,
    );
  }
  // The demo gives withSession the default timeouts, so listSessions needs
  // none: it judges expiry as withSession does.
  const sessions = await listSessions(store, user);
  const others = sessions.filter((s) => s.id !== session.id).length;
  const now = Date.now();
  const signOutOthers = others === 0
    ? html`<p class="empty">No other device is signed in as ${user}.</p>`
    : html`
      <form method="post" action="/devices/sign-out-others" id="sign-out-others">
        <button type="submit">Sign out other devices</button>
      </form>
    `;
  return renderPage(
    context,
    title,
    html`
      <p class="lead">
        <strong>${user}</strong> is signed in on ${count(
          sessions.length,
          "device",
        )}. Each row is a session that <code>login()</code> recorded under
        the user.
      </p>
      <table class="devices">
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last seen</th>
            <th scope="col"><span class="visually-hidden">Action</span></th>
          </tr>
        </thead>
        <tbody>
          ${sessions.map((s) => row(s, s.id === session.id, now))}
        </tbody>
      </table>
      ${signOutOthers}
      <p>
        The list comes from <code>listSessions(store, user)</code>: login times,
        last-seen times (kept to within five minutes) and what the app recorded
        at login, here a summary of the user agent such as
        <code>{ device: "Firefox on Linux" }</code>. It never holds a token. “Sign out” calls
        <code>revokeSession(store, user, id)</code>; “Sign out other devices”
        calls <code>revokeUserSessions(store, user, { except: session.id })</code>.
        A request already in flight on a signed-out device cannot bring its
        session back.
      </p>
    `,
  );
}

function row(entry: UserSession, current: boolean, now: number): Html {
  const action = current
    ? html`<span class="muted">Log out above</span>`
    : html`
      <form method="post" action="/devices/sign-out">
        <input type="hidden" name="id" value="${entry.id}">
        <button type="submit" class="quiet">Sign out</button>
      </form>
    `;
  return html`
    <tr data-session="${current ? "current" : "other"}">
      <td>
        <span class="device">${deviceOf(entry.metadata)}</span>
        <span class="tag">${entry.https ? "HTTPS" : "HTTP"}</span>
        ${current && html`<span class="badge">This device</span>`}
      </td>
      <td>${when(entry.created, now)}</td>
      <td>${when(entry.lastSeen, now)}</td>
      <td class="action">${action}</td>
    </tr>
  `;
}

/**
 * `POST /devices/sign-out`: ends one of the user's other sessions.
 *
 * @param context The request; the form's `id` names the session.
 * @returns A redirect to the devices page, which says what happened.
 */
export async function signOutDevice(context: PageContext): Promise<Response> {
  const { session, store } = context;
  const user = session.userId;
  if (user === null) return problem(403, "Log in to manage your devices");
  const id = await readField(context.request, "id");
  if (!id) return problem(400, "Which device? The form sent no id");
  if (id === session.id) {
    return problem(400, "That is this device: use Log out instead");
  }
  // For the message only; revokeSession itself checks that the session is
  // this user's, so no one can end another user's session by its id.
  const device = (await listSessions(store, user)).find((s) => s.id === id);
  const ended = await revokeSession(store, user, id);
  setNotice(
    session,
    ended
      ? `${deviceOf(device?.metadata ?? null)} signed out`
      : "That device was already signed out",
  );
  return seeOther("/devices");
}

/**
 * `POST /devices/sign-out-others`: ends every session of the user but this
 * one.
 *
 * @param context The request.
 * @returns A redirect to the devices page, which says how many ended.
 */
export async function signOutOtherDevices(
  context: PageContext,
): Promise<Response> {
  const { session, store } = context;
  const user = session.userId;
  if (user === null) return problem(403, "Log in to manage your devices");
  const ended = await revokeUserSessions(store, user, { except: session.id });
  setNotice(
    session,
    ended === 0
      ? "No other device was signed in"
      : `${count(ended, "other device")} signed out`,
  );
  return seeOther("/devices");
}

/** "1 device", "2 devices". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** A time as "just now" or "5 min ago", with the exact time on hover. */
function when(time: number, now: number): Html {
  const iso = new Date(time).toISOString();
  const minutes = Math.floor((now - time) / 60_000);
  const text = minutes < 1
    ? "just now"
    : minutes < 60
    ? `${minutes} min ago`
    : `${Math.floor(minutes / 60)} h ago`;
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}
