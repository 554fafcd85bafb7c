/**
 * A group of radio buttons, as the language and login forms use.
 *
 * @module
 */
import { type Html, html } from "./html.ts";

/** One choice: the submitted value and what the visitor reads. */
export interface Choice {
  readonly value: string;
  readonly label: string;
}

/**
 * Renders one labelled radio button per choice.
 *
 * @param name The form field.
 * @param choices The choices, in order.
 * @param checked The value selected at first.
 * @returns The buttons.
 */
export function radioButtons(
  name: string,
  choices: readonly Choice[],
  checked: string,
): Html[] {
  return choices.map(({ value, label }) => {
    const input = value === checked
      ? html`<input type="radio" name="${name}" value="${value}" checked>`
      : html`<input type="radio" name="${name}" value="${value}">`;
    return html`<label class="choice">${input} ${label}</label>`;
  });
}
