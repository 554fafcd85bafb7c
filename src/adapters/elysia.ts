/**
 * An Elysia plugin on top of `withSession`, typed structurally so that
 * tessera does not depend on Elysia.
 *
 * @module
 */
import { SessionStoreError } from "../errors.ts";
import type { SessionOptions } from "../options.ts";
import type { Session } from "../session.ts";
import { getSession, withSession } from "../with_session.ts";

/**
 * Elysia's compiled request handling, as a wrapper registered with
 * `app.wrap()` receives it: the request in, Elysia's response out (a
 * Response for every request, a WebSocket upgrade included).
 */
export type ElysiaHandle = (request: Request) => unknown;

/**
 * The part of an Elysia app that {@link session} uses: `wrap`, `derive` and
 * `onError`. Every Elysia 1 app fits.
 */
export interface ElysiaAppLike {
  /**
   * Wraps the app's whole request handling (hooks, routing, handlers, error
   * answers), on `app.listen()` and on `app.fetch` alike.
   */
  wrap(
    fn: (handle: ElysiaHandle, request: Request) => ElysiaHandle,
  ): unknown;
  /** Adds a value to the context of the handlers registered after it. */
  derive(
    transform: (context: { request: Request }) => {
      session: Session<Record<string, unknown>>;
    },
  ): unknown;
  /** Sees every error before Elysia answers it. */
  onError(
    handler: (context: { request: Request; error: unknown }) => void,
  ): unknown;
}

/**
 * The app type after `app.use(session<T>())`: the same app, whose later
 * handlers find `session: Session<T>` in their context. It adds to Elysia's
 * type-level record of local `derive` values, as `app.derive()` does.
 *
 * @typeParam App The Elysia app type.
 * @typeParam T The shape of the session's values.
 */
export type WithSessionContext<
  App,
  T extends object = Record<string, unknown>,
> = App & {
  /** Elysia's type-level record of the values local hooks add. */
  readonly "~Volatile": { derive: { readonly session: Session<T> } };
};

/**
 * The plugin {@link session} returns, for `app.use()`.
 *
 * @typeParam T The shape of the session's values.
 */
export type SessionPlugin<T extends object = Record<string, unknown>> = <
  App extends ElysiaAppLike,
>(app: App) => WithSessionContext<App, T>;

/** Elysia's answer to a hook or handler that threw: sent, nothing saved. */
class Unsaved {
  constructor(readonly response: Response) {}
}

/**
 * An Elysia plugin that gives every request a session, as `session` in the
 * context of the handlers registered after it (also `getSession(request)`
 * and `currentSession()`), typed `Session<T>`.
 *
 * It runs the app's whole request handling inside `withSession` (through
 * Elysia's `wrap`), so the session behaves exactly as there, and
 * `app.listen()`, `app.fetch` and `app.handle()` all keep working: the
 * session is read before Elysia's hooks run, saved with a compare-and-swap
 * once Elysia has its response and before the response goes out, and the
 * cookie is added to it. A store that fails answers through the `onError`
 * option (503 by default) before any hook or handler runs.
 *
 * When a hook or handler throws, Elysia's error handling answers and nothing
 * the request changed is saved (`login()`, `logout()`, `regenerate()` and
 * `destroy()` are stored when awaited); a `SessionStoreError` thrown by
 * those is answered through the `onError` option instead, as by
 * `withSession`. Use the plugin once, before the routes that need the
 * session; using the same plugin again in a sub-app (for its types) reuses
 * the same session.
 *
 * @typeParam T The shape of the session's values.
 * @param options Store, cookie, timeouts and error handling, as for
 * `withSession`.
 * @returns A plugin for `app.use()`.
 * @throws {TypeError} or {RangeError} at once when an option is invalid, or
 * when no store is given outside Deno.
 *
 * @example A visit counter with Elysia
 * ```ts
 * import { Elysia } from "elysia";
 * import { memoryStore } from "@tessera/session";
 * import { session } from "@tessera/session/elysia";
 *
 * const app = new Elysia()
 *   .use(session<{ visits: number }>({ store: memoryStore() }))
 *   .get("/", ({ session }) => {
 *     const visits = session.update("visits", (n = 0) => n + 1);
 *     return `visit ${visits}`;
 *   });
 *
 * const first = await app.handle(new Request("http://localhost/"));
 * const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
 * const second = await app.handle(
 *   new Request("http://localhost/", { headers: { cookie } }),
 * );
 * console.log(await second.text()); // "visit 2"
 *
 * // In a server: app.listen(3000) on Bun, or Deno.serve(app.fetch).
 * ```
 */
export function session<T extends object = Record<string, unknown>>(
  options?: SessionOptions,
): SessionPlugin<T> {
  // What Elysia's error handling saw, per request (wrapped, since anything
  // can be thrown, undefined included).
  const failures = new WeakMap<Request, { error: unknown }>();
  const handled = new WeakSet<Request>();
  const handle = withSession(
    async (request: Request, elysia: ElysiaHandle): Promise<Response> => {
      handled.add(request);
      // Typed `unknown` to fit Elysia's own `wrap` type; Elysia answers
      // every request with a Response (a WebSocket upgrade included).
      const response = await elysia(request) as Response;
      const failure = failures.get(request);
      if (failure?.error instanceof SessionStoreError) throw failure.error;
      if (failure !== undefined) throw new Unsaved(response);
      return response;
    },
    options,
  );
  function run(request: Request, elysia: ElysiaHandle): unknown {
    // A second registration (the plugin used again in a sub-app) wraps
    // the same request: it is already in its session.
    if (handled.has(request)) return elysia(request);
    return handle(request, elysia).catch((error) => {
      if (error instanceof Unsaved) return error.response;
      throw error;
    });
  }
  return <App extends ElysiaAppLike>(app: App): WithSessionContext<App, T> => {
    app.onError(({ request, error }) => {
      failures.set(request, { error });
    });
    app.derive(({ request }) => ({ session: getSession(request) }));
    app.wrap((elysia) => (request) => run(request, elysia));
    return app as WithSessionContext<App, T>;
  };
}
