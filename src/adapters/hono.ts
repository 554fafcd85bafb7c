/**
 * A Hono middleware on top of `withSession`, typed structurally so that
 * tessera does not depend on Hono.
 *
 * @module
 */
import { SessionStoreError } from "../errors.ts";
import type { SessionOptions } from "../options.ts";
import type { Session } from "../session.ts";
import { getSession, withSession } from "../with_session.ts";

/**
 * The context variables {@link sessionMiddleware} sets: `c.get("session")`.
 *
 * @typeParam T The shape of the session's values.
 */
export interface SessionVariables<T extends object = Record<string, unknown>> {
  /** The request's session. */
  session: Session<T>;
}

/**
 * A Hono `Env` with the session variable, for `new Hono<SessionEnv<T>>()`.
 * Apps with more variables or bindings write
 * `{ Bindings: B; Variables: SessionVariables<T> & V }` instead.
 *
 * @typeParam T The shape of the session's values.
 */
export interface SessionEnv<T extends object = Record<string, unknown>> {
  /** The context variables. */
  Variables: SessionVariables<T>;
}

/**
 * The part of Hono's `Context` that {@link sessionMiddleware} uses.
 *
 * @typeParam T The shape of the session's values.
 */
export interface HonoContextLike<T extends object = Record<string, unknown>> {
  /** The request; `raw` is the Web `Request`. */
  readonly req: { readonly raw: Request };
  /** The response so far; assigning replaces it (`undefined` drops it). */
  res: Response;
  /** The error a later handler threw, once Hono's `onError` answered it. */
  readonly error?: Error | undefined;
  /** Sets a context variable. */
  set(key: "session", value: Session<T>): void;
}

/**
 * The middleware {@link sessionMiddleware} returns: a Hono
 * `MiddlewareHandler`, typed without importing Hono.
 *
 * @typeParam T The shape of the session's values.
 */
export type SessionMiddleware<T extends object = Record<string, unknown>> = (
  c: HonoContextLike<T>,
  next: () => Promise<void>,
) => Promise<void>;

/** Marks a request whose later handler threw: nothing of it is saved. */
class HandlerFailed {}

/**
 * A Hono middleware that gives every request a session, as
 * `c.get("session")` (also `c.var.session`, `getSession(c.req.raw)` and
 * `currentSession()`).
 *
 * It runs the rest of the chain inside `withSession`, so the session behaves
 * exactly as there: it is read before the handlers run, saved with a
 * compare-and-swap after they return and before the response goes out, and
 * the cookie is added to the response. When a later handler throws, Hono's
 * `onError` answers and nothing the request changed is saved (`login()`,
 * `logout()`, `regenerate()` and `destroy()` are stored when awaited). A
 * store that fails, also inside an awaited `login()` and the like, answers
 * through the `onError` option (503 by default), as with `withSession`.
 *
 * @typeParam T The shape of the session's values.
 * @param options Store, cookie, timeouts and error handling, as for
 * `withSession`.
 * @returns A middleware for `app.use()`.
 * @throws {TypeError} or {RangeError} at once when an option is invalid, or
 * when no store is given outside Deno.
 *
 * @example A visit counter with Hono
 * ```ts
 * import { Hono } from "hono";
 * import { memoryStore } from "@tessera/session";
 * import { type SessionEnv, sessionMiddleware } from "@tessera/session/hono";
 *
 * const app = new Hono<SessionEnv<{ visits: number }>>();
 * app.use(sessionMiddleware({ store: memoryStore() }));
 * app.get("/", (c) => {
 *   const visits = c.get("session").update("visits", (n = 0) => n + 1);
 *   return c.text(`visit ${visits}`);
 * });
 *
 * const first = await app.request("/");
 * const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
 * const second = await app.request("/", { headers: { cookie } });
 * console.log(await second.text()); // "visit 2"
 *
 * // In a server: Deno.serve(app.fetch), export default app (Bun), or
 * // serve(app) from @hono/node-server (Node).
 * ```
 */
export function sessionMiddleware<
  T extends object = Record<string, unknown>,
>(options?: SessionOptions): SessionMiddleware<T> {
  const handle = withSession(
    async (
      request: Request,
      c: HonoContextLike<T>,
      next: () => Promise<void>,
    ): Promise<Response> => {
      c.set("session", getSession<T>(request));
      await next();
      // Hono catches what a later handler throws and answers with onError;
      // like withSession for a handler that throws, save nothing, and
      // leave a store failure (in an awaited login() …) to our onError.
      if (c.error instanceof SessionStoreError) throw c.error;
      if (c.error !== undefined) throw new HandlerFailed();
      return c.res;
    },
    options,
  );
  return async function session(c, next): Promise<void> {
    let response: Response;
    try {
      response = await handle(c.req.raw, c, next);
    } catch (error) {
      if (error instanceof HandlerFailed) return;
      throw error;
    }
    if (response !== c.res) {
      // A new response: the cookie was added to a copy (immutable headers),
      // or a store error replaced the handlers' response. Drop the old one
      // first, or Hono would merge its headers, Set-Cookie included, into
      // the new one.
      (c as { res: Response | undefined }).res = undefined;
      c.res = response;
    }
  };
}
