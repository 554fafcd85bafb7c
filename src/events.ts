/**
 * Lifecycle and audit events: what `onEvent` receives.
 *
 * @module
 */
import type { CsrfReason } from "./csrf.ts";

/**
 * What every event carries. Never the session token, nor the request (whose
 * `Cookie` header holds it): the session's opaque id is what ties events
 * together, the same id that `session.id` and `listSessions` show.
 */
export interface SessionEventBase {
  /** When it happened, in milliseconds since the epoch (`Date.now()`). */
  readonly time: number;
  /** The request's method, `null` for account functions. */
  readonly method: string | null;
  /** The request's URL path, without the query string; `null` for account
   * functions. */
  readonly path: string | null;
}

/**
 * A lifecycle or audit event, told apart by `type`:
 *
 * - `created`: a session was stored for the first time (not by a login).
 * - `login`, `logout`: `session.login()` / `session.logout()` was stored;
 *   `previousSessionId` is the replaced session (`null` when there was none),
 *   `sessionId` the new one (`null` after a logout that kept nothing).
 * - `rotated`: `session.regenerate()` gave the session a new token.
 * - `renewed`: the session got a new token because it was older than
 *   `renewInterval`.
 * - `destroyed`: `session.destroy()` deleted the session.
 * - `expired`: a request presented the token of a session past its idle or
 *   absolute timeout (the record is removed).
 * - `revoked`: `revokeSession()` or `revokeUserSessions()` ended a session.
 * - `conflict-retried`: a save lost a compare-and-swap to a concurrent
 *   request and is replayed (`attempt` is the one that lost).
 * - `save-gave-up`: a save kept conflicting `attempts` times, or the store
 *   failed (`error` is the error's name); the request answers through
 *   `onError`.
 * - `csrf-refused`: the CSRF check refused the request.
 * - `cookie-malformed`: the session cookie is not a well-formed token.
 * - `cookie-duplicate`: the request carries the session cookie more than
 *   once (a planted cookie); none of them is used.
 *
 * @example Logging every event as one JSON line
 * ```ts
 * import { type SessionEvent, withSession, memoryStore } from "@tessera/session";
 *
 * const app = withSession(() => new Response("ok"), {
 *   store: memoryStore(),
 *   onEvent: (event: SessionEvent) => console.log(JSON.stringify(event)),
 * });
 * ```
 */
export type SessionEvent =
  | SessionEventBase & {
    readonly type: "created";
    readonly sessionId: string;
    readonly userId: string | null;
  }
  | SessionEventBase & {
    readonly type: "login" | "logout" | "rotated" | "renewed";
    readonly sessionId: string | null;
    readonly previousSessionId: string | null;
    readonly userId: string | null;
  }
  | SessionEventBase & {
    readonly type: "destroyed" | "expired" | "revoked";
    readonly sessionId: string;
    readonly userId: string | null;
  }
  | SessionEventBase & {
    readonly type: "conflict-retried";
    readonly sessionId: string | null;
    readonly attempt: number;
  }
  | SessionEventBase & {
    readonly type: "save-gave-up";
    readonly sessionId: string | null;
    readonly attempts: number | null;
    readonly error: string;
  }
  | SessionEventBase & {
    readonly type: "csrf-refused";
    readonly sessionId: string | null;
    readonly reason: CsrfReason;
  }
  | SessionEventBase & {
    readonly type: "cookie-malformed" | "cookie-duplicate";
    readonly cookieName: string;
  };

/** The `type` of a {@link SessionEvent}. */
export type SessionEventType = SessionEvent["type"];

/**
 * The listener of the `onEvent` option. It is called synchronously; what it
 * returns is not awaited, and what it throws (or its promise rejects with)
 * is reported once through `console.error` and never breaks the request.
 *
 * @param event The event.
 */
export type SessionEventListener = (event: SessionEvent) => unknown;
