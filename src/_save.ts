// The save of a request's changes: one compare-and-swap of the record,
// retried on conflict by replaying the request's operations on the newer
// version. A commit whose reply was lost is recognised by its write id.
// On a store in this process the first attempt completes without a
// promise; conflicts, failures and retries take the asynchronous path.
import { addWrite, newWriteId, type SessionState } from "./_record.ts";
import { backoff, quietly, sessionKey } from "./_store_access.ts";
import { create } from "./_create.ts";
import type { StoredSession } from "./_stored_session.ts";
import { worthStoring } from "./_values.ts";
import { SessionConflictError } from "./errors.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { SessionStore, StoreKey } from "./store.ts";

/**
 * Saves the pending operations: one compare-and-swap, retried on conflict.
 * Returns `undefined` when the save is already complete.
 */
export function saveChanges(
  session: StoredSession,
  options: ResolvedOptions,
  inPlace: readonly string[],
): Promise<void> | undefined {
  const store = session.io.store();
  if (store instanceof Promise) {
    return store.then((opened) => saveTo(session, options, inPlace, opened));
  }
  return saveTo(session, options, inPlace, store);
}

function saveTo(
  session: StoredSession,
  options: ResolvedOptions,
  inPlace: readonly string[],
  store: SessionStore,
): Promise<void> | undefined {
  if (session.id === null) return createSession(session, options, store);
  const id = session.id;
  return attempt({
    session,
    options,
    inPlace,
    store,
    id,
    key: sessionKey(id),
    writeId: newWriteId(),
    state: session.values.state,
    versionstamp: session.versionstamp,
  }, 1);
}

async function createSession(
  session: StoredSession,
  options: ResolvedOptions,
  store: SessionStore,
): Promise<void> {
  const state = session.values.state;
  if (worthStoring(session.csrfUnstored ? { ...state, csrf: null } : state)) {
    await create(session, options, store);
    session.events.emit({
      type: "created",
      sessionId: session.id!,
      userId: session.values.state.user,
    });
  }
  session.values.done();
}

/** One save in progress: what it writes, and over which version. */
interface Save {
  readonly session: StoredSession;
  readonly options: ResolvedOptions;
  readonly inPlace: readonly string[];
  readonly store: SessionStore;
  readonly writeId: string;
  id: string;
  key: StoreKey;
  state: SessionState;
  versionstamp: string | null;
}

/** One compare-and-swap of the record. */
function attempt(save: Save, n: number): Promise<void> | undefined {
  const { session, store, key, state } = save;
  const io = session.io;
  const checks = [{ key, versionstamp: save.versionstamp }];
  // Emptied (clear(), the last delete or takeFlash()): an empty session
  // is no session, as before its first value; its cookie goes.
  if (!worthStoring(state)) {
    return io.commitThen(
      store,
      checks,
      [],
      [key],
      (versionstamp) => {
        if (versionstamp === null) return conflicted(save, n, false);
        session.emptied();
        return undefined;
      },
      (error) => failed(save, false, error),
    );
  }
  // Stored with this write's id and time, which the state takes once the
  // commit succeeded: no copy of the state per save.
  const now = Date.now();
  const writes = addWrite(state.writes, save.writeId);
  return io.commitThen(
    store,
    checks,
    io.saveSets(key, io.encode(store, state, now, writes), state, now),
    [],
    (versionstamp) => {
      if (versionstamp === null) return conflicted(save, n, true);
      state.seen = now;
      state.writes = writes;
      session.stored(versionstamp, state);
      return undefined;
    },
    (error) => failed(save, true, error),
  );
}

/** The store may have applied the commit and lost its reply. `writes`:
 * whether the commit wrote the record (or deleted an emptied one). */
async function failed(
  save: Save,
  writes: boolean,
  error: unknown,
): Promise<void> {
  const { session } = save;
  const fresh = await quietly(session.io.follow(save.store, save.id));
  if (!writes ? fresh !== null : !session.adopt(fresh, save.writeId)) {
    throw error;
  }
  if (!writes) session.emptied();
}

async function conflicted(
  save: Save,
  n: number,
  writes: boolean,
): Promise<void> {
  const { session, store, options } = save;
  const io = session.io;
  // The conflict may be this very write, applied and then reported as
  // failed (a client's resend after a lost reply fails its own check):
  // look at once, before other writes push it out of the record's list.
  let fresh = await io.follow(store, save.id);
  if (writes && session.adopt(fresh, save.writeId)) return;
  session.events.emit({
    type: "conflict-retried",
    sessionId: session.id,
    attempt: n,
  });
  if (n >= options.maxAttempts) throw new SessionConflictError(n);
  await backoff(n);
  if (fresh !== null) fresh = await io.follow(store, save.id);
  if (fresh === null) {
    // Destroyed, rotated or expired meanwhile: this request's changes
    // are ordered before that, and the session is not brought back.
    // (Or this request emptied it and the store lost the reply.)
    if (!writes) session.emptied();
    else session.reset();
    return;
  }
  if (fresh.id !== save.id) {
    // Renewed by a parallel request: the same session under a new id.
    save.id = fresh.id;
    save.key = sessionKey(fresh.id);
    session.retarget(fresh.id);
  }
  save.versionstamp = fresh.versionstamp;
  save.state = session.values.replay(fresh.record, save.inPlace);
  await attempt(save, n + 1);
}
