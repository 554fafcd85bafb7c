// The save of a request's changes: one compare-and-swap of the record,
// retried on conflict by replaying the request's operations on the newer
// version. A commit whose reply was lost is recognised by its write id.
import { newWriteId, withWrite } from "./_record.ts";
import { backoff, quietly, sessionKey } from "./_store_access.ts";
import { create } from "./_create.ts";
import type { StoredSession } from "./_stored_session.ts";
import { worthStoring } from "./_values.ts";
import { SessionConflictError } from "./errors.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";

/** Saves the pending operations: one compare-and-swap, retried on conflict. */
export async function saveChanges(
  session: StoredSession,
  options: ResolvedOptions,
  inPlace: readonly string[],
): Promise<void> {
  const io = session.io;
  const store = await io.store();
  if (session.id === null) {
    const state = session.values.state;
    if (
      worthStoring(session.csrfUnstored ? { ...state, csrf: null } : state)
    ) {
      await create(session, options, store);
      session.events.emit({
        type: "created",
        sessionId: session.id!,
        userId: session.values.state.user,
      });
    }
    session.values.done();
    return;
  }
  let id = session.id;
  let key = sessionKey(id);
  const writeId = newWriteId();
  let state = session.values.state;
  let versionstamp = session.versionstamp;
  for (let attempt = 1;; attempt++) {
    const now = Date.now();
    // Emptied (clear(), the last delete or takeFlash()): an empty session
    // is no session, as before its first value; its cookie goes.
    const written = worthStoring(state)
      ? withWrite({ ...state, seen: now }, writeId)
      : undefined;
    const checks = [{ key, versionstamp }];
    let result: string | null;
    try {
      result = written === undefined
        ? await io.commit(store, checks, [], [key])
        : await io.commit(
          store,
          checks,
          io.saveSets(key, io.encode(store, written), written, now),
          [],
        );
    } catch (error) {
      // The store may have applied the commit and lost its reply.
      const fresh = await quietly(io.follow(store, id));
      if (
        written === undefined ? fresh !== null : !session.adopt(fresh, writeId)
      ) {
        throw error;
      }
      if (written === undefined) session.emptied();
      return;
    }
    if (result !== null) {
      if (written === undefined) session.emptied();
      else session.stored(result, written);
      return;
    }
    // The conflict may be this very write, applied and then reported as
    // failed (a client's resend after a lost reply fails its own check):
    // look at once, before other writes push it out of the record's list.
    let fresh = await io.follow(store, id);
    if (written !== undefined && session.adopt(fresh, writeId)) return;
    session.events.emit({
      type: "conflict-retried",
      sessionId: session.id,
      attempt,
    });
    if (attempt >= options.maxAttempts) {
      throw new SessionConflictError(attempt);
    }
    await backoff(attempt);
    if (fresh !== null) fresh = await io.follow(store, id);
    if (fresh === null) {
      // Destroyed, rotated or expired meanwhile: this request's changes
      // are ordered before that, and the session is not brought back.
      // (Or this request emptied it and the store lost the reply.)
      if (written === undefined) session.emptied();
      else session.reset();
      return;
    }
    if (fresh.id !== id) {
      // Renewed by a parallel request: the same session under a new id.
      id = fresh.id;
      key = sessionKey(id);
      session.retarget(id);
    }
    versionstamp = fresh.versionstamp;
    state = session.values.replay(fresh.record, inPlace);
  }
}
