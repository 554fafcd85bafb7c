/**
 * Reading a submitted form field.
 *
 * @module
 */

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
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return undefined;
  }
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}
