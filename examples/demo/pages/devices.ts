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
import { csrfField, readField } from "../form.ts";
import { type Html, html } from "../html.ts";
import { type Messages, messages, t } from "../i18n.ts";
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
  const text = messages(language);
  const title = t(language, "devices");
  const user = session.userId;
  if (user === null) {
    const login = html`<a href="/login">${t(language, "login")}</a>`;
    return renderPage(
      context,
      title,
      html`<p>${text.devicesLoggedOut(login)}</p>`,
    );
  }
  // The demo gives withSession the default timeouts, so listSessions needs
  // none: it judges expiry as withSession does.
  const sessions = await listSessions(store, user);
  const others = sessions.filter((s) => s.id !== session.id).length;
  const now = Date.now();
  const csrf = csrfField(session);
  const signOutOthers = others === 0
    ? html`<p class="empty">${text.noOtherDevice(user)}</p>`
    : html`
      <form method="post" action="/devices/sign-out-others" id="sign-out-others">
        ${csrf}
        <button type="submit">${text.signOutOthers}</button>
      </form>
    `;
  return renderPage(
    context,
    title,
    html`
      <p class="lead">
        ${text.devicesLead(user, text.devicesCount(sessions.length))}
      </p>
      <table class="devices">
        <thead>
          <tr>
            <th scope="col">${text.device}</th>
            <th scope="col">${text.signedIn}</th>
            <th scope="col">${text.lastSeen}</th>
            <th scope="col"><span class="visually-hidden">${text
              .action}</span></th>
          </tr>
        </thead>
        <tbody>
          ${sessions.map((s) => row(s, s.id === session.id, now, text, csrf))}
        </tbody>
      </table>
      ${signOutOthers}
      <p>${text.devicesExplained}</p>
    `,
  );
}

function row(
  entry: UserSession,
  current: boolean,
  now: number,
  text: Messages,
  csrf: Html,
): Html {
  const action = current
    ? html`<span class="muted">${text.logOutAbove}</span>`
    : html`
      <form method="post" action="/devices/sign-out">
        ${csrf}
        <input type="hidden" name="id" value="${entry.id}">
        <button type="submit" class="quiet">${text.signOut}</button>
      </form>
    `;
  return html`
    <tr data-session="${current ? "current" : "other"}">
      <td>
        <span class="device">${deviceOf(entry.metadata)}</span>
        <span class="tag">${entry.https ? "HTTPS" : "HTTP"}</span>
        ${current && html`<span class="badge">${text.thisDevice}</span>`}
      </td>
      <td>${when(entry.created, now, text)}</td>
      <td>${when(entry.lastSeen, now, text)}</td>
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
  const text = messages(context.language);
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
      ? text.deviceSignedOut(deviceOf(device?.metadata ?? null))
      : text.alreadySignedOut,
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
  const text = messages(context.language);
  setNotice(
    session,
    ended === 0 ? text.noOtherSignedOut : text.othersSignedOut(ended),
  );
  return seeOther("/devices");
}

/** A time as "just now" or "5 min ago", with the exact time on hover. */
function when(time: number, now: number, text: Messages): Html {
  const iso = new Date(time).toISOString();
  const minutes = Math.floor((now - time) / 60_000);
  const ago = minutes < 1
    ? text.justNow
    : minutes < 60
    ? text.minutesAgo(minutes)
    : text.hoursAgo(Math.floor(minutes / 60));
  return html`<time datetime="${iso}" title="${iso}">${ago}</time>`;
}
