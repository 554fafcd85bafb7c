/**
 * HTML built from template literals, escaped by default.
 *
 * @module
 */

/** A piece of markup that is already safe to send. */
export class Html {
  /**
   * Wraps markup; only `html` should call this.
   *
   * @param value The markup.
   */
  constructor(readonly value: string) {}

  /** The markup. */
  toString(): string {
    return this.value;
  }
}

/** What may be interpolated into `html`: text is escaped, markup is not. */
export type Interpolation =
  | Html
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly Interpolation[];

/**
 * Builds markup. Interpolated strings are escaped, so session values typed
 * by the user cannot inject markup; `Html` values and arrays of them nest.
 * `null`, `undefined` and `false` render nothing, which keeps conditionals
 * short: `${user && html`…`}`.
 *
 * @param strings The literal parts.
 * @param values The interpolated parts.
 * @returns The markup.
 */
export function html(
  strings: TemplateStringsArray,
  ...values: Interpolation[]
): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(value: Interpolation): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escape(String(value));
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
