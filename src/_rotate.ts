// Rotation: a new token for login, logout and regenerate. The old record is
// deleted in the same commit that stores the new one, checked against the
// version this request read, and the rotation is retried with replay when a
// concurrent request changed the session meanwhile.
import { newWriteId, type SessionState } from "./_record.ts";
import {
  backoff,
  quietly,
  sessionKey,
  userSessionKey,
} from "./_store_access.ts";
import { create } from "./_create.ts";
import type { StoredSession } from "./_stored_session.ts";
import { newToken, tokenId } from "./_token.ts";
import { emptyState, pick, worthStoring } from "./_values.ts";
import { SessionConflictError } from "./errors.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { StoreCheck, StoreKey } from "./store.ts";
import type { SideSet } from "./stores/_side.ts";

/** What a rotation keeps and changes. */
export interface Rotation {
  /** Values kept (`null`: all of them). */
  readonly keep: readonly string[] | null;
  /** The user to bind; `undefined` keeps the current one. */
  readonly user: string | null | undefined;
  /** Login metadata to record; `undefined` keeps the current one. */
  readonly meta: Record<string, unknown> | null | undefined;
  /** When the user last authenticated; `undefined` keeps it. */
  readonly auth?: number | null;
  /** The session's own lifetime (remember me); `undefined` keeps it. */
  readonly life?: number | null;
}

/** New token; old record deleted in the same commit that stores the new one. */
export async function rotate(
  session: StoredSession,
  options: ResolvedOptions,
  rotation: Rotation,
): Promise<void> {
  const io = session.io;
  const store = await io.store();
  const inPlace = session.values.changedInPlace();
  const token = newToken();
  const id = tokenId(token);
  const newKey = sessionKey(id);
  const oldId = session.id;
  const writeId = newWriteId();
  let state = session.values.state;
  let versionstamp = session.versionstamp;
  for (let attempt = 1;; attempt++) {
    const now = Date.now();
    const user = rotation.user === undefined ? state.user : rotation.user;
    // A login starts a new session; regenerate keeps the session's age.
    const created = rotation.user === undefined && oldId !== null
      ? state.created
      : now;
    const next: SessionState = {
      data: rotation.keep === null
        ? new Map(state.data)
        : pick(state.data, rotation.keep),
      // Flash crosses a regenerate only: a message for the signed-in user
      // must not reach the next visitor of the browser, nor one planted
      // before a login reach the user after it.
      flash: rotation.user === undefined ? new Map(state.flash) : new Map(),
      created,
      seen: now,
      issued: now,
      auth: rotation.auth === undefined ? state.auth ?? null : rotation.auth,
      // A login sets its own lifetime or none; a logout drops it.
      life: rotation.life !== undefined
        ? rotation.life
        : rotation.user === undefined
        ? state.life ?? null
        : null,
      user,
      csrf: null,
      meta: rotation.meta === undefined ? state.meta : rotation.meta,
      writes: writeId,
    };
    const checks: StoreCheck[] = [];
    const deletes: StoreKey[] = [];
    const sets: SideSet[] = [];
    if (oldId !== null) {
      const oldKey = sessionKey(oldId);
      checks.push({ key: oldKey, versionstamp });
      deletes.push(oldKey);
      if (state.user !== null) deletes.push(userSessionKey(state.user, oldId));
    } else {
      session.dropStale(checks, deletes);
    }
    const keep = worthStoring(next);
    if (keep) {
      checks.push({ key: newKey, versionstamp: null });
      sets.push(...io.saveSets(newKey, io.encode(store, next), next, now));
    }
    // A rotation the store could not record throws with nothing changed
    // here: a failed logout leaves the cookie as it was, so the response
    // cannot tell the browser it was signed out (DESIGN: Failure).
    const result = checks.length === 0 && !keep
      ? ""
      : keep
      ? await io.commitOrFind(store, { checks, sets, deletes }, newKey, writeId)
      : await io.commit(store, checks, sets, deletes).catch(async (error) => {
        // Applied with its reply lost: the old session is gone.
        if (
          oldId === null ||
          await quietly(io.get(store, sessionKey(oldId))) !== null
        ) throw error;
        return "";
      });
    if (result !== null) {
      if (keep) session.settle(token, result, next, writeId);
      else {
        session.forgetStale();
        session.end();
      }
      return;
    }
    session.events.emit({
      type: "conflict-retried",
      sessionId: oldId,
      attempt,
    });
    if (attempt >= options.maxAttempts) {
      throw new SessionConflictError(attempt);
    }
    await backoff(attempt);
    if (oldId === null) {
      session.forgetStale();
      continue;
    }
    const fresh = await io.read(store, sessionKey(oldId));
    if (fresh === null) {
      if (typeof rotation.user !== "string") {
        // Someone else ended this session meanwhile (or this logout did,
        // and the store lost the reply); there is nothing to rotate, and
        // it must not come back.
        if (keep) session.reset();
        else session.end();
        return;
      }
      // A login goes ahead as a fresh session.
      session.reset();
      session.values.state = {
        ...emptyState(now),
        user: rotation.user,
        meta: rotation.meta ?? null,
        life: rotation.life ?? null,
        auth: rotation.auth ?? null,
      };
      await create(session, options, store);
      return;
    }
    versionstamp = fresh.versionstamp;
    state = session.values.replay(fresh.record, inPlace);
  }
}
