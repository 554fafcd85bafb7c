/**
 * Cross-site request forgery protection for `withSession(handler, { csrf })`:
 * its options, the error a refusal carries, and the check itself.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";

/**
 * The form field that carries the CSRF token.
 *
 * @example A hidden form field
 * ```ts
 * import { CSRF_FIELD } from "@tessera/session";
 *
 * const field = `<input type="hidden" name="${CSRF_FIELD}" value="…">`;
 * console.log(field.includes('name="_csrf"')); // true
 * ```
 */
export const CSRF_FIELD = "_csrf";

/**
 * The request header that carries the CSRF token.
 *
 * @example Sending the token from a script
 * ```ts
 * import { CSRF_HEADER } from "@tessera/session";
 *
 * const init = { method: "POST", headers: { [CSRF_HEADER]: "the token" } };
 * console.log(Object.keys(init.headers)); // ["x-csrf-token"]
 * ```
 */
export const CSRF_HEADER = "x-csrf-token";

/**
 * The CSRF check's settings, for `withSession(handler, { csrf: { … } })`.
 * `csrf: true` is the same as `csrf: {}`.
 */
export interface CsrfOptions {
  /**
   * Other origins whose pages may send unsafe requests, each a full origin
   * (`"https://admin.example"`: scheme, host and port, no path). A request
   * whose `Origin` is one of them passes the origin checks even when
   * `Sec-Fetch-Site` says `same-site` or `cross-site`; it still needs the
   * session's token when the session has one. `"null"` cannot be trusted.
   *
   * @default {[]}
   */
  trustedOrigins?: readonly string[];
  /**
   * Requests for which this returns `true` skip the CSRF check entirely
   * (webhooks and other callers that do not use the session cookie). It
   * runs before the handler, for unsafe methods only; an error it throws
   * goes to `onError`.
   *
   * @default {undefined}
   */
  exempt?: (request: Request) => boolean;
  /**
   * The most bytes of a form body that are read to find the `_csrf` field,
   * when the token is not in the `x-csrf-token` header. A longer body
   * (announced by `Content-Length`, or counted while reading one without
   * it) is refused with 413 before it is buffered. Larger uploads send the
   * header, or raise this.
   *
   * @default {1_048_576} (1 MiB)
   */
  maxFormBytes?: number;
  /**
   * How a request is checked whose session holds no CSRF token and no
   * signed-in user: a visitor without a session (`csrfToken()` stores
   * nothing for them), whose only form is usually the login form. A
   * signed-in session without a token is always refused.
   *
   * - `"same-origin"`: the request passes when the browser shows that it
   *   comes from this site: `Sec-Fetch-Site: same-origin`, or `Origin` equal
   *   to this site's origin or a trusted one. A request that shows neither
   *   (browsers from before 2020, non-browser clients) is refused.
   * - `"token"`: `csrfToken()` creates and stores a session for every
   *   visitor who is shown a form, and a request without that session's
   *   token is refused, in every browser.
   *
   * @default {"same-origin"}
   */
  anonymous?: "same-origin" | "token";
}

/** Why {@link CsrfError} refused a request. */
export type CsrfReason =
  /** `Sec-Fetch-Site` is not `same-origin` (and `Origin` is not trusted). */
  | "cross-site"
  /** `Origin` is neither this site's origin nor a trusted one. */
  | "origin"
  /** The session has no token, and is signed in or the browser did not show a same-origin request. */
  | "no-session-token"
  /** The session has a token, and the request sent none. */
  | "missing-token"
  /** The token sent is not the session's. */
  | "wrong-token"
  /** The form body that should carry the token could not be read. */
  | "unreadable-form"
  /** The form body is longer than `maxFormBytes`. */
  | "form-too-large";

/**
 * An unsafe-method request failed the CSRF check of
 * `withSession(handler, { csrf })`. The handler did not run and nothing was
 * stored. It is passed to `onError`, whose default answers `status` (403, or
 * 413 for a form over `maxFormBytes`) with the message as plain text. The
 * message never contains a token.
 *
 * @example A custom refusal page through onError
 * ```ts
 * import { CsrfError, memoryStore, withSession } from "@tessera/session";
 *
 * const app = withSession(() => new Response("changed"), {
 *   store: memoryStore(),
 *   csrf: true,
 *   onError(error) {
 *     if (error instanceof CsrfError) {
 *       return new Response(`<p>This form has expired (${error.reason}); reload the page.</p>`, {
 *         status: error.status,
 *         headers: { "content-type": "text/html; charset=utf-8" },
 *       });
 *     }
 *     return new Response("Service Unavailable", { status: 503 });
 *   },
 * });
 * const response = await app(new Request("https://example.com/", { method: "POST" }));
 * console.log(response.status); // 403
 * ```
 */
export class CsrfError extends Error {
  /** Which condition failed. */
  readonly reason: CsrfReason;
  /** The HTTP status the refusal calls for: 413 for `"form-too-large"`, else 403. */
  readonly status: 403 | 413;
  /**
   * Creates the error.
   *
   * @param reason Which condition failed.
   * @param detail What the request showed, for logs (never a token).
   */
  constructor(reason: CsrfReason, detail: string) {
    super(`CSRF check failed: ${detail}`);
    this.name = "CsrfError";
    this.reason = reason;
    this.status = reason === "form-too-large" ? 413 : 403;
  }
}

/** The CSRF settings, checked once per `withSession`. */
export interface ResolvedCsrf {
  readonly trustedOrigins: ReadonlySet<string>;
  readonly exempt: ((request: Request) => boolean) | undefined;
  readonly maxFormBytes: number;
  readonly anonymous: "same-origin" | "token";
}

/** Default `maxFormBytes`: 1 MiB, room for any form but file uploads. */
const DEFAULT_MAX_FORM_BYTES = 1_048_576;

/**
 * Checks the `csrf` option; `null` when CSRF protection is off.
 *
 * @param value The option as given.
 * @returns The settings, or `null`.
 */
export function resolveCsrf(
  value: boolean | CsrfOptions | undefined,
): ResolvedCsrf | null {
  if (value === undefined || value === false) return null;
  const options: CsrfOptions = value === true ? {} : value;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `csrf must be true, false or an object of CSRF options, got ${
        String(value)
      }`,
    );
  }
  const trusted = options.trustedOrigins ?? [];
  if (!Array.isArray(trusted)) {
    throw new TypeError(
      `csrf.trustedOrigins must be an array of origins, got ${String(trusted)}`,
    );
  }
  const { exempt } = options;
  if (exempt !== undefined && typeof exempt !== "function") {
    throw new TypeError(
      `csrf.exempt must be a function (request) => boolean, got ${
        String(exempt)
      }`,
    );
  }
  const maxFormBytes = options.maxFormBytes ?? DEFAULT_MAX_FORM_BYTES;
  if (!Number.isSafeInteger(maxFormBytes) || maxFormBytes < 1) {
    throw new RangeError(
      `csrf.maxFormBytes must be a whole number of bytes, at least 1, got ${
        String(maxFormBytes)
      }`,
    );
  }
  const anonymous = options.anonymous ?? "same-origin";
  if (anonymous !== "same-origin" && anonymous !== "token") {
    throw new TypeError(
      `csrf.anonymous must be "same-origin" or "token", got ${
        JSON.stringify(anonymous)
      }`,
    );
  }
  return {
    trustedOrigins: new Set(trusted.map(trustedOrigin)),
    exempt,
    maxFormBytes,
    anonymous,
  };
}

/** An entry of `trustedOrigins` in the form browsers send in `Origin`. */
function trustedOrigin(entry: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof entry === "string" ? new URL(entry) : undefined;
  } catch {
    // Reported below.
  }
  if (
    url === undefined ||
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.username !== "" || url.password !== "" || url.pathname !== "/" ||
    url.search !== "" || url.hash !== ""
  ) {
    throw new TypeError(
      `csrf.trustedOrigins entries must be origins such as "https://admin.example" (scheme, host, optional port, no path), got ${
        JSON.stringify(entry)
      }`,
    );
  }
  return url.origin;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * Whether a request's method is checked: every method but GET, HEAD,
 * OPTIONS and TRACE, so lower-case and unknown ones too.
 */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

const encoder = new TextEncoder();

/**
 * The CSRF check of one unsafe-method request.
 *
 * @param request The request.
 * @param https Whether the session layer treats it as HTTPS (trustProxy
 * included): the scheme of the origin it must come from.
 * @param expected The token stored in the request's session, or `null`.
 * @param signedIn Whether the session is bound to a user: then it needs a
 * token, with or without the browser's signals.
 * @param options The settings.
 * @returns Why it is refused, or `null` when it passes.
 */
export async function checkCsrf(
  request: Request,
  https: boolean,
  expected: string | null,
  signedIn: boolean,
  options: ResolvedCsrf,
): Promise<CsrfError | null> {
  if (options.exempt?.(request) === true) return null;
  const self = siteOrigin(request.url, https);
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  const trusted = origin !== null && options.trustedOrigins.has(origin);
  if (site !== null && site !== "same-origin" && !trusted) {
    return new CsrfError("cross-site", `Sec-Fetch-Site is "${site}"`);
  }
  // A same-origin form on a page with `Referrer-Policy: no-referrer` sends
  // `Origin: null`; only Fetch Metadata can vouch for it.
  if (
    origin !== null && origin !== self && !trusted &&
    !(origin === "null" && site === "same-origin")
  ) {
    return new CsrfError("origin", `Origin ${origin} is not ${self}`);
  }
  if (expected === null) {
    // No user's session to act in: the browser's own signals refuse a
    // forged request (login CSRF included). A signed-in session must have
    // handed out a token.
    const shown = site === "same-origin" || origin === self || trusted;
    const anonymous = options.anonymous === "same-origin" && !signedIn;
    if (anonymous && shown) return null;
    return new CsrfError(
      "no-session-token",
      anonymous
        ? "the request has no session with a CSRF token, and the browser did not show a same-origin request (Sec-Fetch-Site or Origin)"
        : "the session has no CSRF token (none was handed out since it was created or signed in)",
    );
  }
  let sent = request.headers.get(CSRF_HEADER);
  if (sent === null && isForm(request.headers.get("content-type"))) {
    const field = await formField(request, options.maxFormBytes);
    if (field instanceof CsrfError) return field;
    sent = field;
  }
  if (sent === null) {
    return new CsrfError("missing-token", "no CSRF token was sent");
  }
  const a = encoder.encode(sent);
  const b = encoder.encode(expected);
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
    ? null
    : new CsrfError("wrong-token", "the CSRF token does not match");
}

/**
 * The origin a same-origin request has: the request URL's host and port,
 * with the scheme the session layer decided (a TLS proxy's, with
 * trustProxy).
 */
function siteOrigin(url: string, https: boolean): string {
  return new URL(`${https ? "https" : "http"}://${new URL(url).host}`).origin;
}

function isForm(contentType: string | null): boolean {
  return contentType !== null &&
    /^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(
      contentType,
    );
}

/** The `_csrf` field of a form body, read at most `limit` bytes far. */
async function formField(
  request: Request,
  limit: number,
): Promise<string | null | CsrfError> {
  const tooLarge = () =>
    new CsrfError(
      "form-too-large",
      `the form body is over maxFormBytes (${limit} bytes); send the token in the ${CSRF_HEADER} header`,
    );
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > limit) return tooLarge();
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const read = await readAtMost(request.body, limit);
    if (read === null) return tooLarge();
    bytes = read;
  } catch {
    return new CsrfError("unreadable-form", "the form body could not be read");
  }
  const type = request.headers.get("content-type")!;
  restoreBody(request, bytes, type);
  try {
    const field = (await new Response(bytes, {
      headers: { "content-type": type },
    }).formData()).get(CSRF_FIELD);
    return typeof field === "string" ? field : null;
  } catch {
    return new CsrfError("unreadable-form", "the form body could not be read");
  }
}

/** The whole body, or `null` as soon as it grows past `limit` (then cancelled). */
async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Makes the body the check read readable again by the handler, on the same
 * `Request` object. Not `request.clone()`: a clone follows
 * `request.signal`, and touching a `Deno.serve` request's signal makes Deno
 * 2.9 warn about its legacy abort behaviour. Not a new `Request` either: the
 * server keys things on the original (Bun's `server.requestIP(req)`, route
 * `params`, Hono's `c.req.raw`).
 */
function restoreBody(
  request: Request,
  bytes: Uint8Array<ArrayBuffer>,
  type: string,
): void {
  const holder = new Response(bytes, { headers: { "content-type": type } });
  const read = <
    K extends "arrayBuffer" | "blob" | "bytes" | "formData" | "json" | "text",
  >(
    name: K,
  ) => ({ configurable: true, writable: true, value: () => holder[name]() });
  Object.defineProperties(request, {
    body: { configurable: true, get: () => holder.body },
    bodyUsed: { configurable: true, get: () => holder.bodyUsed },
    arrayBuffer: read("arrayBuffer"),
    blob: read("blob"),
    bytes: read("bytes"),
    formData: read("formData"),
    json: read("json"),
    text: read("text"),
    clone: {
      configurable: true,
      writable: true,
      value: (): Request => {
        if (holder.bodyUsed) {
          throw new TypeError("Cannot clone a request whose body was read");
        }
        return new Request(request, { body: bytes });
      },
    },
  });
}

/**
 * The default answer to a refusal: its status, the reason as plain text.
 *
 * @param error The refusal.
 * @returns The response.
 */
export function csrfRefusal(error: CsrfError): Response {
  const label = error.status === 413 ? "Content Too Large" : "Forbidden";
  return new Response(`${label}: ${error.message}`, {
    status: error.status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      vary: "Cookie",
    },
  });
}
