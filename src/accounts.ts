/**
 * The sessions of a user: list them, revoke one, revoke all ("sign out
 * everywhere"). Works through a per-user index that `login()` writes in the
 * same atomic commit as the session, so no function here scans the store.
 *
 * @module
 */
import { decodeRecord, isExpired } from "./_record.ts";
import { duration } from "./_option_checks.ts";
import { Emitter, SILENT } from "./_emit.ts";
import type { SessionEventListener } from "./events.ts";
import { checkUserId } from "./_user_id.ts";
import {
  DEFAULT_ABSOLUTE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_STORE_TIMEOUT,
  MAX_STORE_TIMEOUT,
} from "./_resolve_options.ts";
import {
  sessionKey,
  userIndexEntries,
  userSessionKey,
} from "./_store_access.ts";
import { bounded } from "./_timeout.ts";
import type { SessionStore, StoreKey } from "./store.ts";

/** One live session of a user, as {@link listSessions} reports it. */
export interface UserSession {
  /** The session's id (`session.id`), never its token. */
  readonly id: string;
  /** When the session was created (the login), ms since the epoch. */
  readonly created: number;
  /** When a request last used it, ms since the epoch (to `touchInterval`). */
  readonly lastSeen: number;
  /** Whether the session belongs to the HTTPS channel. */
  readonly https: boolean;
  /** What the application passed to `login(userId, metadata)`, or `null`. */
  readonly metadata: Record<string, unknown> | null;
}

/** What every function here takes: how long one store call may take. */
export interface StoreCallOptions {
  /**
   * How long one store call (a read or a commit) may take, as the
   * `storeTimeout` of `withSession`: a call that does not answer in time
   * rejects with a `SessionStoreTimeoutError` instead of hanging.
   *
   * @default {5_000}
   */
  storeTimeout?: number;
}

/** Options of {@link listSessions}: the timeouts `withSession` uses. Not
 * needed: every session records the timeouts it was saved under (and a
 * remembered one its own lifetime); given, they override those. */
export interface ListSessionsOptions extends StoreCallOptions {
  /**
   * The `idleTimeout` given to `withSession`.
   *
   * @default {3_600_000}
   */
  idleTimeout?: number;
  /**
   * The `absoluteTimeout` given to `withSession`.
   *
   * @default {86_400_000}
   */
  absoluteTimeout?: number;
}

/** Options of {@link revokeSession}. */
export interface RevokeSessionOptions extends StoreCallOptions {
  /**
   * Receives a `revoked` event for each session ended, as the `onEvent`
   * option of `withSession` does (usually the same listener).
   *
   * @default {none}
   */
  onEvent?: SessionEventListener;
}

/** Options of {@link revokeUserSessions}. */
export interface RevokeOptions extends RevokeSessionOptions {
  /** A session id to keep, usually `session.id` ("sign out other devices"). */
  except?: string | null;
}

/** Keys deleted per atomic commit; well within Deno KV's mutation limit. */
const BATCH = 100;

/**
 * Lists the live sessions of a user, newest first. Index entries whose
 * session has ended (logged out, destroyed, expired) are removed on the way.
 *
 * @param store The store given to `withSession`.
 * @param userId The user id passed to `login`.
 * @param options Optional: timeouts to judge expiry by instead of those each
 * session was saved under.
 * @returns The live sessions, without tokens.
 *
 * @example A "your devices" page
 * ```ts
 * import { getSession, listSessions, memoryStore, withSession } from "@tessera/session";
 *
 * const store = memoryStore();
 * const app = withSession(async (req) => {
 *   const session = getSession(req);
 *   if (session.userId === null) await session.login("ada", { device: "Firefox on Linux" });
 *   const devices = await listSessions(store, session.userId!);
 *   return Response.json(devices.map((d) => ({ current: d.id === session.id, ...d.metadata })));
 * }, { store });
 * console.log(await (await app(new Request("http://localhost/"))).json());
 * // [ { current: true, device: "Firefox on Linux" } ]
 * ```
 */
export async function listSessions(
  store: SessionStore,
  userId: string,
  options: ListSessionsOptions = {},
): Promise<UserSession[]> {
  checkUserId(userId, "listSessions()");
  const timeout = storeTimeout(options);
  const given = options.idleTimeout !== undefined ||
    options.absoluteTimeout !== undefined;
  const now = Date.now();
  const live: UserSession[] = [];
  for (const entry of await userIndexEntries(store, userId, timeout)) {
    const id = entry.key[2]!;
    const session = await guard(
      "read",
      () => store.get(sessionKey(id)),
      timeout,
    );
    const record = session === null ? null : decodeRecord(session.value);
    if (record !== null && record.user === userId) {
      // Expired by the given timeouts: not shown, but the entry stays. The
      // timeouts are the caller's word, not the session's, and an entry
      // removed here could never be reached by revokeUserSessions() again.
      // Without them, each record's own: the timeouts withSession wrote it
      // under, or its own lifetime (remember me).
      const [idle, absolute] = given || record.limits === null
        ? [
          options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
          options.absoluteTimeout ?? DEFAULT_ABSOLUTE_TIMEOUT,
        ]
        : record.limits;
      if (isExpired(record, now, idle, absolute)) continue;
    } else {
      // A stale index entry: its session is gone (or is not this user's).
      // Remove it unless it changed meanwhile.
      await guard(
        "save",
        () =>
          store.commit({
            checks: [{ key: entry.key, versionstamp: entry.versionstamp }],
            sets: [],
            deletes: [entry.key],
          }),
        timeout,
      );
      continue;
    }
    live.push({
      id,
      created: record.created,
      lastSeen: record.seen,
      https: record.https,
      metadata: record.meta,
    });
  }
  return live.sort((a, b) => b.created - a.created);
}

/**
 * Ends one session of a user. A request in flight on it cannot bring it
 * back: its save finds the session gone and stores nothing.
 *
 * @param store The store given to `withSession`.
 * @param userId The user the session belongs to.
 * @param sessionId The id from {@link listSessions}.
 * @param options `onEvent`: where the `revoked` event goes.
 * @returns `true` when a session of that user was ended.
 *
 * @example Signing out one device
 * ```ts ignore
 * import { revokeSession } from "@tessera/session";
 *
 * await revokeSession(store, session.userId!, form.get("id") as string);
 * ```
 */
export async function revokeSession(
  store: SessionStore,
  userId: string,
  sessionId: string,
  options: RevokeSessionOptions = {},
): Promise<boolean> {
  checkUserId(userId, "revokeSession()");
  const events = revokeEvents(options);
  const timeout = storeTimeout(options);
  if (typeof sessionId !== "string" || sessionId === "") {
    throw new TypeError(
      `revokeSession() needs a session id, got ${JSON.stringify(sessionId)}`,
    );
  }
  const indexKey = userSessionKey(userId, sessionId);
  const entry = await guard("read", () => store.get(indexKey), timeout);
  if (entry === null) return false;
  // Only through the index: a caller cannot end another user's session by
  // naming its id.
  await guard(
    "save",
    () =>
      store.commit({
        checks: [],
        sets: [],
        deletes: [indexKey, sessionKey(sessionId)],
      }),
    timeout,
  );
  revoked(events, userId, [sessionId]);
  return true;
}

/**
 * Ends every session of a user, for example after a password change or when
 * an account is disabled; optionally keeps one ("sign out other devices").
 *
 * @param store The store given to `withSession`.
 * @param userId The user id passed to `login`.
 * @param options `except`: a session id to keep; `onEvent`: where the
 * `revoked` events go.
 * @returns How many sessions were ended.
 *
 * @example After a password change
 * ```ts
 * import { getSession, memoryStore, revokeUserSessions, withSession } from "@tessera/session";
 *
 * const store = memoryStore();
 * const app = withSession(async (req) => {
 *   const session = getSession(req);
 *   await session.login("ada");
 *   // …the password was changed: sign out every other device.
 *   const ended = await revokeUserSessions(store, "ada", { except: session.id });
 *   return new Response(`${ended} other sessions ended`);
 * }, { store });
 * console.log(await (await app(new Request("http://localhost/"))).text());
 * // "0 other sessions ended"
 * ```
 */
export async function revokeUserSessions(
  store: SessionStore,
  userId: string,
  options: RevokeOptions = {},
): Promise<number> {
  checkUserId(userId, "revokeUserSessions()");
  const events = revokeEvents(options);
  const timeout = storeTimeout(options);
  const except = options.except ?? null;
  const ids = (await userIndexEntries(store, userId, timeout))
    .map((e) => e.key[2]!)
    .filter((id) => id !== except);
  for (let i = 0; i < ids.length; i += BATCH / 2) {
    const deletes: StoreKey[] = [];
    for (const id of ids.slice(i, i + BATCH / 2)) {
      deletes.push(userSessionKey(userId, id), sessionKey(id));
    }
    await guard(
      "save",
      () => store.commit({ checks: [], sets: [], deletes }),
      timeout,
    );
    revoked(events, userId, ids.slice(i, i + BATCH / 2));
  }
  return ids.length;
}

/** The `revoked` events' emitter, checked before anything is ended. */
function revokeEvents(options: RevokeSessionOptions): Emitter {
  const listener = options.onEvent ?? null;
  if (listener !== null && typeof listener !== "function") {
    throw new TypeError(
      `onEvent must be a function, got ${String(listener)}`,
    );
  }
  return listener === null ? SILENT : new Emitter(listener);
}

function revoked(
  events: Emitter,
  userId: string,
  ids: readonly string[],
): void {
  for (const sessionId of ids) {
    events.emit({ type: "revoked", sessionId, userId });
  }
}

/** The checked `storeTimeout` of a call's options. */
function storeTimeout(options: StoreCallOptions): number {
  return duration(
    "storeTimeout",
    options.storeTimeout,
    DEFAULT_STORE_TIMEOUT,
    MAX_STORE_TIMEOUT,
  );
}

function guard<T>(
  what: "read" | "save",
  operation: () => Promise<T>,
  timeout: number,
): Promise<T> {
  return what === "read"
    ? bounded(operation, timeout, "read", "Could not read the user's sessions")
    : bounded(
      operation,
      timeout,
      "commit",
      "Could not change the user's sessions",
    );
}
