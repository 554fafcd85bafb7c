/**
 * `withSession`: the middleware that gives every request a session.
 *
 * @module
 */
import type { SessionOptions } from "./options.ts";
import { type ResolvedOptions, resolveOptions } from "./_resolve_options.ts";
import { checkCsrf, isUnsafeMethod } from "./csrf.ts";
import { SessionConflictError, SessionStoreError } from "./errors.ts";
import { Emitter, SILENT } from "./_emit.ts";
import { currentLayers, Layers, requestLayers } from "./_layers.ts";
import { RequestSession } from "./_request_session.ts";
import { SESSION_TOKEN_HEADER } from "./bearer.ts";
import type { Session } from "./session.ts";

/**
 * Which session {@link getSession} and {@link currentSession} return when
 * more than one `withSession` layer (each with its own `cookieName`) handles
 * a request.
 */
export interface SessionLookupOptions {
  /**
   * The `cookieName` of the layer whose session is wanted.
   *
   * @default the innermost layer's (the only one, for most apps)
   */
  readonly cookieName?: string;
}

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
export function withSession<
  A extends unknown[],
  R extends Request = Request,
  Res extends Response | undefined = Response,
>(
  handler: (request: R, ...rest: A) => Res | Promise<Res>,
  options?: SessionOptions,
): (request: R, ...rest: A) => Promise<Res> {
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
  ): Promise<Res> {
    session.close();
    if (error instanceof SessionStoreError) {
      session.events.emit({
        type: "save-gave-up",
        sessionId: session.id,
        attempts: error instanceof SessionConflictError ? error.attempts : null,
        error: error.name,
      });
    }
    return finish(await onError(error, request), session, resolved) as Res;
  }

  /** Saves after the handler; synchronous when there is nothing to store. */
  function complete(
    response: Res,
    request: Request,
    session: RequestSession,
  ): Res | Promise<Res> {
    let saving: Promise<void> | undefined;
    try {
      saving = session.commit();
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
  ): Promise<Res> {
    session.close();
    if (!(error instanceof SessionStoreError)) throw error;
    return failed(error, request, session);
  }

  /** Runs the handler in the session's context, then saves. */
  function run(
    request: R,
    rest: A,
    session: RequestSession,
  ): Res | Promise<Res> {
    const layers = new Layers(
      session,
      resolved.httpCookie,
      requestLayers.get(request),
    );
    requestLayers.set(request, layers);
    let result: Res | Promise<Res>;
    try {
      result = currentLayers.run(layers, handler, request, ...rest);
    } catch (error) {
      return handlerFailed(error, request, session);
    }
    if (result instanceof Response || result === undefined) {
      return complete(result, request, session);
    }
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
  ): Promise<Res> {
    try {
      await loading;
      if (checksCsrf) {
        const refusal = await checkCsrf(
          request,
          session.https,
          session.storedCsrfToken,
          session.userId !== null,
          resolved.csrf!,
        );
        // A CsrfError, answered through onError like a store failure.
        if (refusal !== null) {
          session.events.emit({
            type: "csrf-refused",
            sessionId: session.id,
            reason: refusal.reason,
          });
          throw refusal;
        }
      }
    } catch (error) {
      return await loadFailed(error, request, session);
    }
    return await run(request, rest, session);
  }

  /** A load or CSRF check that failed: answered through onError. */
  function loadFailed(
    error: unknown,
    request: Request,
    session: RequestSession,
  ): Promise<Res> {
    session.close();
    return Promise.resolve(onError(error, request) as Res | Promise<Res>);
  }

  // No await and no store access for a request without a session cookie
  // whose handler stores nothing: the response is resolved at once.
  return function sessionHandler(
    request: R,
    ...rest: A
  ): Promise<Res> {
    // The request itself, not its channel: reading its URL costs more than
    // the rest of an anonymous request, and a request without cookies
    // whose handler starts no session never needs it.
    const session = new RequestSession(
      resolved,
      request,
      resolved.onEvent === null
        ? SILENT
        : new Emitter(resolved.onEvent, request),
    );
    let loading: Promise<void> | undefined;
    try {
      // At once (no promise) without a cookie, or on a store in process.
      loading = session.load(request.headers);
    } catch (error) {
      loading = Promise.reject(error);
    }
    // A browser never adds an Authorization header on its own: bearer
    // requests cannot be forged cross-site, so CSRF checks do not apply.
    const checksCsrf = resolved.csrf !== null &&
      resolved.carrier === "cookie" && isUnsafeMethod(request.method);
    if (checksCsrf) {
      return loadThenRun(request, rest, session, loading, checksCsrf);
    }
    if (loading !== undefined) {
      // A chain, not loadThenRun's async function: on a remote store each
      // await is one more promise step per request (measurable on Bun).
      return loading.then(
        () => run(request, rest, session),
        (error) => loadFailed(error, request, session),
      );
    }
    try {
      return Promise.resolve(run(request, rest, session));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * The session of a request handled by {@link withSession}. When several
 * `withSession` layers with different `cookieName`s handle the request
 * (e.g. a site session around an admin one), each has its own session:
 * without `lookup`, the innermost layer's is returned.
 *
 * @typeParam T The shape of the session's values.
 * @param request The request the handler received.
 * @param lookup Which layer's session, by its `cookieName`.
 * @returns Its session.
 * @throws {TypeError} when the request did not pass through `withSession`,
 * or through none with that `cookieName`.
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
 *
 * @example A site session and an admin session
 * ```ts
 * import { getSession, memoryStore, withSession } from "@tessera/session";
 *
 * const store = memoryStore();
 * const admin = withSession((req) => {
 *   getSession(req, { cookieName: "admin" }).set("mode", "audit");
 *   getSession(req, { cookieName: "site" }).set("theme", "dark");
 *   return new Response("ok");
 * }, { store, cookieName: "admin" });
 * const app = withSession(admin, { store, cookieName: "site" });
 *
 * const res = await app(new Request("http://localhost/"));
 * console.log(res.headers.getSetCookie().length); // 2
 * ```
 */
export function getSession<T extends object = Record<string, unknown>>(
  request: Request,
  lookup?: SessionLookupOptions,
): Session<T> {
  const name = lookupName(lookup, "getSession()");
  const layers = requestLayers.get(request);
  const session = layers?.find(name);
  if (session === undefined) {
    throw new TypeError(
      layers === undefined
        ? "getSession() was given a request that withSession() did not handle: wrap the handler with withSession(handler), and pass the request it received"
        : `getSession() found no withSession() layer with cookieName "${name}" around this request (there are: ${
          layers.names().map((n) => `"${n}"`).join(", ")
        })`,
    );
  }
  return session as unknown as Session<T>;
}

/**
 * The session of the request being handled, found through
 * `AsyncLocalStorage`, for code that has no access to the request. With
 * several `withSession` layers, the innermost one's unless `lookup` names
 * another.
 *
 * @typeParam T The shape of the session's values.
 * @param lookup Which layer's session, by its `cookieName`.
 * @returns The current request's session.
 * @throws {TypeError} when called outside a handler wrapped by `withSession`,
 * or by none with that `cookieName`.
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
>(lookup?: SessionLookupOptions): Session<T> {
  const name = lookupName(lookup, "currentSession()");
  const layers = currentLayers.getStore();
  const session = layers?.find(name);
  if (session === undefined) {
    throw new TypeError(
      layers === undefined
        ? "currentSession() was called outside a request: call it while a handler wrapped by withSession() runs"
        : `currentSession() found no withSession() layer with cookieName "${name}" (there are: ${
          layers.names().map((n) => `"${n}"`).join(", ")
        })`,
    );
  }
  return session as unknown as Session<T>;
}

function lookupName(
  lookup: SessionLookupOptions | undefined,
  what: string,
): string | undefined {
  if (lookup === undefined) return undefined;
  const name = lookup?.cookieName;
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(
      `${what} cookieName must be a string, got ${String(name)}`,
    );
  }
  return name;
}

function finish<Res extends Response | undefined>(
  response: Res,
  session: RequestSession,
  options: ResolvedOptions,
): Res {
  if (response === undefined) {
    session.release();
    // Bun's `if (server.upgrade(req)) return;`: the upgrade answered the
    // request, and the session was saved, but no header can be added now.
    if (session.issuesCookie) {
      throw new TypeError(
        "The handler returned no Response (a WebSocket upgrade?) but its session needs a Set-Cookie (it was created, rotated or ended during this request): create, sign in or end the session in an ordinary request before the upgrade",
      );
    }
    return response;
  }
  // No object per response: the common one adds `Vary` and no cookie.
  const bearer = options.carrier === "bearer";
  const cookies = bearer ? NO_COOKIES : session.cookies();
  const token = bearer ? session.tokenHeader() : undefined;
  session.release();
  const clearSiteData = !bearer && options.clearSiteData && session.ended;
  const used = session.used;
  if (
    cookies.length === 0 && token === undefined && !used && !clearSiteData
  ) return response;
  const vary = bearer ? "Authorization" : "Cookie";
  let headers = response.headers;
  try {
    writeHeaders(headers, cookies, token, vary, used, clearSiteData);
  } catch {
    // Immutable headers (Response.redirect(), fetch() results): copy once.
    response = new Response(response.body, response) as Res & Response;
    headers = response.headers;
    writeHeaders(headers, cookies, token, vary, used, clearSiteData);
  }
  return response;
}

const NO_COOKIES: readonly string[] = [];

/** Headers that tell CDNs and other shared caches how long to keep a response. */
const SHARED_CACHE_HEADERS = [
  "cdn-cache-control",
  "surrogate-control",
  "cloudflare-cdn-cache-control",
];

/** Adds what the carrier needs to a response: cookies, or a
 * `Session-Token`; `vary` is the request header the response depends on. */
function writeHeaders(
  headers: Headers,
  cookies: readonly string[],
  token: string | undefined,
  varyOn: "Cookie" | "Authorization",
  used: boolean,
  clearSiteData: boolean,
): void {
  if (used) {
    const vary = headers.get("vary");
    if (vary === null) headers.set("vary", varyOn);
    else if (!varies(vary, varyOn)) {
      headers.set("vary", `${vary}, ${varyOn}`);
    }
  }
  if (clearSiteData) headers.set("clear-site-data", '"cookies"');
  const issues = cookies.length > 0 || token !== undefined;
  if (token !== undefined) {
    headers.set(SESSION_TOKEN_HEADER, token);
    // Browser code on another origin may read it only when exposed.
    const exposed = headers.get("access-control-expose-headers");
    if (exposed === null) {
      headers.set("access-control-expose-headers", "Session-Token");
    } else if (!varies(exposed, SESSION_TOKEN_HEADER)) {
      headers.set("access-control-expose-headers", `${exposed}, Session-Token`);
    }
  }
  if (issues) {
    for (const cookie of cookies) headers.append("set-cookie", cookie);
  } else if (!used) return;
  // A response that hands out a session, or that shows one, is this
  // browser's alone: no shared cache (proxy, CDN) may store it.
  for (const name of SHARED_CACHE_HEADERS) headers.delete(name);
  const cacheControl = headers.get("cache-control");
  if (cacheControl === null) {
    headers.set(
      "cache-control",
      issues ? "private, no-store" : "private",
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

/** Whether a comma-separated header lists `name` (or `*`). */
function varies(value: string, name: string): boolean {
  return value.split(",").some((item) => {
    const token = item.trim().toLowerCase();
    return token === "*" || token === name.toLowerCase();
  });
}
