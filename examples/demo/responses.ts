/**
 * The responses that are not pages.
 *
 * @module
 */

/**
 * Sends the browser to another page with a GET, after a form was handled
 * (post/redirect/get: reloading the result does not submit again). tessera
 * saves the session before this response leaves, so the next page sees it.
 *
 * @param path Where to go, on the same origin.
 * @returns A 303 response.
 */
export function seeOther(path: string): Response {
  return new Response(null, { status: 303, headers: { location: path } });
}

/**
 * Refuses a request, as plain text.
 *
 * @param status The HTTP status.
 * @param message What was wrong.
 * @returns The response.
 */
export function problem(status: number, message: string): Response {
  return new Response(message + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
