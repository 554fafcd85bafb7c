/**
 * Forms: the CSRF field every form carries, and reading a submitted field.
 *
 * @module
 */
import { CSRF_FIELD, type Session } from "@tessera/session";
import { type Html, html } from "./html.ts";

/**
 * The hidden field that carries the session's CSRF token. The demo runs
 * `withSession` with `csrf: true`, so every form that posts needs it.
 *
 * @param session The request's session.
 * @returns The `<input type="hidden">`.
 */
export function csrfField(session: Pick<Session, "csrfToken">): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${session.csrfToken()}">`;
}

/**
 * The posted form, or `undefined` when the body is not one.
 *
 * @param request The request.
 * @returns Its form fields.
 */
export async function readForm(
  request: Request,
): Promise<FormData | undefined> {
  try {
    return await request.formData();
  } catch {
    return undefined;
  }
}

/**
 * Reads one text field of a submitted form.
 *
 * @param request A POST with a form body.
 * @param name The field.
 * @returns The field's text, or `undefined` when the body is not a form or
 * the field is missing, so each page answers bad input with a 400, not a
 * crash.
 */
export async function readField(
  request: Request,
  name: string,
): Promise<string | undefined> {
  const value = (await readForm(request))?.get(name);
  return typeof value === "string" ? value : undefined;
}
