/**
 * `withSession`: the middleware that gives every request a session.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  type ResolvedOptions,
  resolveOptions,
  type SessionOptions,
} from "./options.ts";
import { checkCsrf, isUnsafeMethod } from "./csrf.ts";
import { SessionStoreError } from "./errors.ts";
import { RequestSession } from "./_request_session.ts";
import type { Session } from "./session.ts";

const sessions = new WeakMap<Request, RequestSession>();
const current = new AsyncLocalStorage<RequestSession>();

/**
 * Wraps a fetch handler so that every request has a session. The session is
 * read before `handler` runs (only when the request carries a session
 * cookie), saved after it returns, and the cookie is added to its response.
 * Extra arguments (Deno's `info`, Bun's `server`) pass through untouched.
 *
 * @typeParam A The handler's arguments after the request.
 * @typeParam R The handler's request type, kept as it is: a `Request`
 * subtype such as Bun's `BunRequest` (with the route's `params`).
 * @param handler The handler to wrap.
 * @param options Store, cookie, timeouts and error handling.
 * @returns A handler with the same parameters that resolves to the response.
 * @throws {TypeError} or {RangeError} at once when an option is invalid, or
 * when no store is given outside Deno.
 *
 * @example A visit counter
 * ```ts
 * import { getSession, memoryStore, withSession } from "@tessera/session";
 *
 * const app = withSession((req) => {
 *   const visits = getSession<{ visits: number }>(req).update("visits", (n = 0) => n + 1);
 *   return new Response(`visit ${visits}`);
 * }, { store: memoryStore() });
 *
 * const first = await app(new Request("http://localhost/"));
 * const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
 * const second = await app(new Request("http://localhost/", { headers: { cookie } }));
 * console.log(await second.text()); // "visit 2"
 * ```
 */
export function withSession<A extends unknown[], R extends Request = Request>(
  handler: (request: R, ...rest: A) => Response | Promise<Response>,
  options?: SessionOptions,
): (request: R, ...rest: A) => Promise<Response> {
  if (typeof handler !== "function") {
    throw new TypeError(
      `withSession() needs a handler function, got ${String(handler)}`,
    );
  }
  const resolved = resolveOptions(options);
  const { onError } = resolved;

  /** Answers a session failure through onError, with the cookies that stand. */
  async function failed(
    error: unknown,
    request: Request,
    session: RequestSession,
  ): Promise<Response> {
    return finish(await onError(error, request), session, resolved);
  }

  /** Saves after the handler; synchronous when there is nothing to store. */
  function complete(
    response: Response,
    request: Request,
    session: RequestSession,
  ): Response | Promise<Response> {
    let saving: Promise<void> | undefined;
    try {
      saving = session.save();
    } catch (error) {
      return failed(error, request, session);
    }
    if (saving === undefined) return finish(response, session, resolved);
    return saving.then(
      () => finish(response, session, resolved),
      (error) => failed(error, request, session),
    );
  }

  /** A store failure inside login()/logout()/destroy() that the handler did
   * not catch is ours to report; any other error is the handler's. */
  function handlerFailed(
    error: unknown,
    request: Request,
    session: RequestSession,
  ): Promise<Response> {
    if (!(error instanceof SessionStoreError)) throw error;
    return failed(error, request, session);
  }

  /** Runs the handler in the session's context, then saves. */
  function run(
    request: R,
    rest: A,
    session: RequestSession,
  ): Response | Promise<Response> {
    sessions.set(request, session);
    let result: Response | Promise<Response>;
    try {
      result = current.run(session, handler, request, ...rest);
    } catch (error) {
      return handlerFailed(error, request, session);
    }
    if (result instanceof Response) return complete(result, request, session);
    return Promise.resolve(result).then(
      (response) => complete(response, request, session),
      (error) => handlerFailed(error, request, session),
    );
  }

  /** The path for requests that need the store or a CSRF check first. */
  async function loadThenRun(
    request: R,
    rest: A,
    session: RequestSession,
    loading: Promise<void> | undefined,
    checksCsrf: boolean,
    https: boolean,
  ): Promise<Response> {
    try {
      await loading;
      if (checksCsrf) {
        const refusal = await checkCsrf(
          request,
          https,
          session.storedCsrfToken,
          session.userId !== null,
          resolved.csrf!,
        );
        // A CsrfError, answered through onError like a store failure.
        if (refusal !== null) throw refusal;
      }
    } catch (error) {
      return await onError(error, request);
    }
    return await run(request, rest, session);
  }

  // No await and no store access for a request without a session cookie
  // whose handler stores nothing: the response is resolved at once.
  return function sessionHandler(
    request: R,
    ...rest: A
  ): Promise<Response> {
    const https = isHttps(request, resolved);
    const session = new RequestSession(resolved, https);
    const loading = session.load(request.headers.get("cookie"));
    const checksCsrf = resolved.csrf !== null &&
      isUnsafeMethod(request.method);
    if (loading !== undefined || checksCsrf) {
      return loadThenRun(request, rest, session, loading, checksCsrf, https);
    }
    try {
      return Promise.resolve(run(request, rest, session));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * The session of a request handled by {@link withSession}.
 *
 * @typeParam T The shape of the session's values.
 * @param request The request the handler received.
 * @returns Its session.
 * @throws {TypeError} when the request did not pass through `withSession`.
 *
 * @example Reading the language
 * ```ts
 * import { getSession, memoryStore, withSession } from "@tessera/session";
 *
 * const app = withSession((req) => {
 *   const language = getSession<{ language: string }>(req).get("language") ?? "en";
 *   return new Response(language);
 * }, { store: memoryStore() });
 * console.log(await (await app(new Request("http://localhost/"))).text()); // "en"
 * ```
 */
export function getSession<T extends object = Record<string, unknown>>(
  request: Request,
): Session<T> {
  const session = sessions.get(request);
  if (session === undefined) {
    throw new TypeError(
      "getSession() was given a request that withSession() did not handle: wrap the handler with withSession(handler), and pass the request it received",
    );
  }
  return session as unknown as Session<T>;
}

/**
 * The session of the request being handled, found through
 * `AsyncLocalStorage`, for code that has no access to the request.
 *
 * @typeParam T The shape of the session's values.
 * @returns The current request's session.
 * @throws {TypeError} when called outside a handler wrapped by `withSession`.
 *
 * @example From a helper deep in the call stack
 * ```ts
 * import { currentSession, memoryStore, withSession } from "@tessera/session";
 *
 * function greeting(): string {
 *   return currentSession<{ name: string }>().get("name") ?? "stranger";
 * }
 * const app = withSession(() => new Response(`hello ${greeting()}`), { store: memoryStore() });
 * console.log(await (await app(new Request("http://localhost/"))).text()); // "hello stranger"
 * ```
 */
export function currentSession<
  T extends object = Record<string, unknown>,
>(): Session<T> {
  const session = current.getStore();
  if (session === undefined) {
    throw new TypeError(
      "currentSession() was called outside a request: call it while a handler wrapped by withSession() runs",
    );
  }
  return session as unknown as Session<T>;
}

function isHttps(request: Request, options: ResolvedOptions): boolean {
  const proxies = options.trustProxy;
  if (proxies !== null) {
    const proto = forwardedProto(request.headers, proxies);
    if (proto !== undefined) return proto === "https";
  }
  return request.url.startsWith("https:");
}

/**
 * The scheme the trusted proxies report, from the one header they write.
 * Proxies append, so the element `hops` from the right is the one the
 * outermost trusted proxy wrote; anything left of it came from the client.
 */
function forwardedProto(
  headers: Headers,
  proxies: NonNullable<ResolvedOptions["trustProxy"]>,
): string | undefined {
  const element = trustedElement(headers.get(proxies.header), proxies.hops);
  if (element === undefined) return undefined;
  if (proxies.header === "x-forwarded-proto") {
    return element.trim().toLowerCase();
  }
  for (const pair of element.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === "proto") {
      return pair.slice(eq + 1).trim().replace(/^"|"$/g, "").toLowerCase();
    }
  }
  // The trusted element says nothing of the scheme: the URL's counts.
  return undefined;
}

/** The element `hops` from the right of a comma-separated header. */
function trustedElement(
  value: string | null,
  hops: number,
): string | undefined {
  if (value === null) return undefined;
  const elements = value.split(",");
  return elements.length < hops ? undefined : elements[elements.length - hops];
}

function finish(
  response: Response,
  session: RequestSession,
  options: ResolvedOptions,
): Response {
  const cookies = session.cookies();
  const clearSiteData = options.clearSiteData && session.ended;
  if (cookies.length === 0 && !session.used && !clearSiteData) return response;
  let headers = response.headers;
  try {
    writeHeaders(headers, cookies, session.used, clearSiteData);
  } catch {
    // Immutable headers (Response.redirect(), fetch() results): copy once.
    response = new Response(response.body, response);
    headers = response.headers;
    writeHeaders(headers, cookies, session.used, clearSiteData);
  }
  return response;
}

/** Headers that tell CDNs and other shared caches how long to keep a response. */
const SHARED_CACHE_HEADERS = [
  "cdn-cache-control",
  "surrogate-control",
  "cloudflare-cdn-cache-control",
];

function writeHeaders(
  headers: Headers,
  cookies: string[],
  used: boolean,
  clearSiteData: boolean,
): void {
  if (used) {
    const vary = headers.get("vary");
    if (vary === null) headers.set("vary", "Cookie");
    else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) {
      headers.set("vary", `${vary}, Cookie`);
    }
  }
  if (clearSiteData) headers.set("clear-site-data", '"cookies"');
  if (cookies.length > 0) {
    for (const cookie of cookies) headers.append("set-cookie", cookie);
  } else if (!used) return;
  // A response that hands out a session, or that shows one, is this
  // browser's alone: no shared cache (proxy, CDN) may store it.
  for (const name of SHARED_CACHE_HEADERS) headers.delete(name);
  const cacheControl = headers.get("cache-control");
  if (cacheControl === null) {
    headers.set(
      "cache-control",
      cookies.length > 0 ? "private, no-store" : "private",
    );
  } else if (!/(^|,)\s*(private|no-store)\s*(,|$)/i.test(cacheControl)) {
    // Only a bare `private` or `no-store` keeps shared caches out:
    // `private="set-cookie"` lets them store the body.
    const kept = cacheControl.split(",").map((d) => d.trim()).filter((d) =>
      d !== "" && !/^(public|s-maxage\s*=.*)$/i.test(d)
    );
    headers.set("cache-control", ["private", ...kept].join(", "));
  }
}
