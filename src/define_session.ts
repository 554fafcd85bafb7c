/**
 * `defineSession`: the app's session type and options, declared once.
 *
 * @module
 */
import type { SessionOptions } from "./options.ts";
import type { Session } from "./session.ts";
import { currentSession, getSession, withSession } from "./with_session.ts";

/**
 * The app's sessions, declared once by {@link defineSession}: one set of
 * options, one store, and one session type `T` that every getter returns,
 * so no call site can state another type.
 *
 * @typeParam T The shape of the session's values.
 */
export interface SessionDefinition<T extends object> {
  /**
   * Wraps a fetch handler, as `withSession(handler, options)` does, with this
   * definition's options and store. Every handler made here shares them.
   *
   * @typeParam A The handler's arguments after the request.
   * @typeParam R The handler's request type, kept as it is.
   * @param handler The handler to wrap.
   * @returns A handler with the same parameters that resolves to the
   * response.
   */
  handler<A extends unknown[], R extends Request = Request>(
    handler: (request: R, ...rest: A) => Response | Promise<Response>,
  ): (request: R, ...rest: A) => Promise<Response>;
  /**
   * The session of a request handled by this definition's `handler()`.
   *
   * @param request The request the handler received.
   * @returns Its session, typed `Session<T>`.
   * @throws {TypeError} when the request did not pass through a handler of
   * this definition.
   */
  get(request: Request): Session<T>;
  /**
   * The session of the request being handled (`AsyncLocalStorage`), for
   * code that has no access to the request.
   *
   * @returns The current request's session, typed `Session<T>`.
   * @throws {TypeError} when called outside a handler of this definition.
   */
  current(): Session<T>;
}

/**
 * Declares the app's sessions once: their options and the shape `T` of
 * their values. The returned definition wraps handlers (`handler()`) and
 * reads their sessions (`get(req)`, `current()`), always as `Session<T>`,
 * so two parts of the app cannot silently disagree about the session's
 * type, as two `getSession<T>()` calls with different `T` can.
 *
 * The options are checked here, once; every handler of the definition
 * shares one store (with the default store, one `Deno.openKv()`).
 *
 * @typeParam T The shape of the session's values.
 * @param options Store, cookie, timeouts and error handling, as for
 * `withSession`.
 * @returns The definition.
 * @throws {TypeError} or {RangeError} at once when an option is invalid, or
 * when no store is given outside Deno.
 *
 * @example One session type for the whole app
 * ```ts
 * import { defineSession, memoryStore } from "@tessera/session";
 *
 * // sessions.ts
 * const sessions = defineSession<{ visits: number; language: string }>({
 *   store: memoryStore(),
 * });
 *
 * // Anywhere else: no type argument to repeat, none to get wrong.
 * function language(): string {
 *   return sessions.current().get("language") ?? "en";
 * }
 *
 * const app = sessions.handler((req) => {
 *   const visits = sessions.get(req).update("visits", (n = 0) => n + 1);
 *   return new Response(`visit ${visits} (${language()})`);
 * });
 * console.log(await (await app(new Request("http://localhost/"))).text()); // "visit 1 (en)"
 * ```
 */
export function defineSession<T extends object = Record<string, unknown>>(
  options?: SessionOptions,
): SessionDefinition<T> {
  type Inner = (
    request: Request,
    ...rest: unknown[]
  ) => Response | Promise<Response>;
  // The sessions of this definition's requests, to refuse those of another.
  const ours = new WeakSet<Session>();
  // One withSession for every handler: options resolved and store opened once.
  const handle = withSession(
    (request: Request, inner: Inner, rest: unknown[]) => {
      ours.add(getSession(request));
      return inner(request, ...rest);
    },
    options,
  );
  function mine(session: Session, what: string): Session<T> {
    if (!ours.has(session)) {
      throw new TypeError(
        `sessions.${what} found a session of another withSession() or defineSession(): wrap the handler with this definition's handler()`,
      );
    }
    return session as unknown as Session<T>;
  }
  return Object.freeze({
    handler<A extends unknown[], R extends Request = Request>(
      handler: (request: R, ...rest: A) => Response | Promise<Response>,
    ): (request: R, ...rest: A) => Promise<Response> {
      if (typeof handler !== "function") {
        throw new TypeError(
          `sessions.handler() needs a handler function, got ${String(handler)}`,
        );
      }
      const inner = handler as unknown as Inner;
      return (request: R, ...rest: A) => handle(request, inner, rest);
    },
    get(request: Request): Session<T> {
      return mine(getSession(request), "get(request)");
    },
    current(): Session<T> {
      return mine(currentSession(), "current()");
    },
  });
}
