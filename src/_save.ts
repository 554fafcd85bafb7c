// The save of a request's changes: one compare-and-swap of the record,
// retried on conflict by replaying the request's operations on the newer
// version. A commit whose reply was lost is recognised by its write id.
// On a store in this process the first attempt completes without a
// promise; conflicts, failures and retries take the asynchronous path.
import { newWriteId, type SessionState, withWrite } from "./_record.ts";
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
  const { session, store, key } = save;
  const io = session.io;
  const now = Date.now();
  // Emptied (clear(), the last delete or takeFlash()): an empty session
  // is no session, as before its first value; its cookie goes.
  const written = worthStoring(save.state)
    ? withWrite(save.state, save.writeId, now)
    : undefined;
  const checks = [{ key, versionstamp: save.versionstamp }];
  const then = (versionstamp: string | null) =>
    committed(save, n, written, versionstamp);
  const otherwise = (error: unknown) => failed(save, written, error);
  return written === undefined
    ? io.commitThen(store, checks, [], [key], then, otherwise)
    : io.commitThen(
      store,
      checks,
      io.saveSets(key, io.encode(store, written), written, now),
      [],
      then,
      otherwise,
    );
}

function committed(
  save: Save,
  n: number,
  written: SessionState | undefined,
  result: string | null,
): Promise<void> | undefined {
  if (result === null) return conflicted(save, n, written);
  if (written === undefined) save.session.emptied();
  else save.session.stored(result, written);
  return undefined;
}

/** The store may have applied the commit and lost its reply. */
async function failed(
  save: Save,
  written: SessionState | undefined,
  error: unknown,
): Promise<void> {
  const { session } = save;
  const fresh = await quietly(session.io.follow(save.store, save.id));
  if (
    written === undefined ? fresh !== null : !session.adopt(fresh, save.writeId)
  ) {
    throw error;
  }
  if (written === undefined) session.emptied();
}

async function conflicted(
  save: Save,
  n: number,
  written: SessionState | undefined,
): Promise<void> {
  const { session, store, options } = save;
  const io = session.io;
  // The conflict may be this very write, applied and then reported as
  // failed (a client's resend after a lost reply fails its own check):
  // look at once, before other writes push it out of the record's list.
  let fresh = await io.follow(store, save.id);
  if (written !== undefined && session.adopt(fresh, save.writeId)) return;
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
    if (written === undefined) session.emptied();
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
