/**
 * The one-line message shown after a redirect ("Welcome, alice"), kept as a
 * flash value: `session.flash()` before the redirect, `session.takeFlash()`
 * on the page it lands on, so it is shown once and gone on reload.
 *
 * @module
 */
import type { Session } from "@tessera/session";

/** The flash key the demo's message is kept under. */
const NOTICE = "notice";

/**
 * Leaves a message for the next page. Call it after `await
 * session.login()` / `logout()`: those start a new session, and the message
 * must be stored in that one.
 *
 * @param session The request's session.
 * @param text The message.
 */
export function setNotice(
  session: Pick<Session, "flash">,
  text: string,
): void {
  session.flash(NOTICE, text);
}

/**
 * Takes the message left for this page, if any; it is then gone.
 *
 * @param session The request's session.
 * @returns The message, or `undefined`.
 */
export function takeNotice(
  session: Pick<Session, "takeFlash">,
): string | undefined {
  const text = session.takeFlash<unknown>(NOTICE);
  return typeof text === "string" ? text : undefined;
}
