/**
 * The language switcher: a plain value that login and logout keep.
 *
 * @module
 */
import type { PageContext } from "../context.ts";
import { csrfField, readField } from "../form.ts";
import { html } from "../html.ts";
import { isLanguage, LANGUAGE_NAMES, LANGUAGES, t } from "../i18n.ts";
import { renderPage } from "../layout.ts";
import { radioButtons } from "../radio.ts";
import { problem, seeOther } from "../responses.ts";

/**
 * `GET /language`: the choice. Reading the language stores nothing.
 *
 * @param context The request.
 * @returns The language page.
 */
export function languageForm(context: PageContext): Response {
  const options = radioButtons(
    "language",
    LANGUAGES.map((code) => ({ value: code, label: LANGUAGE_NAMES[code] })),
    context.language,
  );
  return renderPage(
    context,
    t(context.language, "language"),
    html`
      <form method="post" action="/language" class="stack">
        ${csrfField(context.session)}
        <fieldset>
          <legend>Pick the language of the menus</legend>
          ${options}
        </fieldset>
        <button type="submit">Save</button>
      </form>
      <p>
        The language is listed in <code>persistentFieldsOnLogin</code> and
        <code>persistentFieldsOnLogout</code> (tessera's default), so it stays
        when you log in or out; everything else goes.
      </p>
    `,
  );
}

/**
 * `POST /language`: stores the choice.
 *
 * @param context The request.
 * @returns A redirect back to the form.
 */
export async function setLanguage(context: PageContext): Promise<Response> {
  const language = await readField(context.request, "language");
  if (!isLanguage(language)) {
    return problem(
      400,
      `Unknown language: pick one of ${LANGUAGES.join(", ")}`,
    );
  }
  context.session.set("language", language);
  return seeOther("/language");
}
