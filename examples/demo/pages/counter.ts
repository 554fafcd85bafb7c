/**
 * The visit counter: `session.update()`, which composes when requests race.
 *
 * @module
 */
import type { PageContext } from "../context.ts";
import { html } from "../html.ts";
import { t } from "../i18n.ts";
import { renderPage } from "../layout.ts";

/**
 * `GET /counter`: counts this visit and shows the total.
 *
 * @param context The request.
 * @returns The counter page.
 */
export function counter(context: PageContext): Response {
  // update(), not get() then set(): when two requests of one session race,
  // tessera re-runs this function on the other's result, so both count.
  const visits = context.session.update("visits", (n = 0) => n + 1);
  const message = visits === 1
    ? "This is your first visit"
    : `You have been here ${visits} times`;
  return renderPage(
    context,
    t(context.language, "counter"),
    html`
      <p class="big"><output id="visits">${visits}</output></p>
      <p>
        ${message} in this session. Reload to count again; open a second tab
        and both add up.
      </p>
    `,
  );
}
