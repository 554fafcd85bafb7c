// Creation: the first store of a session, under a new token checked to be
// unused, with a signed-in user's index entry and the removal of a dead
// record found at load in the same commit.
import { newWriteId, withWrite } from "./_record.ts";
import { sessionKey } from "./_store_access.ts";
import type { StoredSession } from "./_stored_session.ts";
import { newToken, tokenId } from "./_token.ts";
import { SessionConflictError } from "./errors.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { SessionStore, StoreCheck, StoreKey } from "./store.ts";

/** Stores a session that does not exist yet under a new token. */
export async function create(
  session: StoredSession,
  options: ResolvedOptions,
  store: SessionStore,
): Promise<void> {
  const writeId = newWriteId();
  for (let attempt = 1;; attempt++) {
    const token = newToken();
    const id = tokenId(token);
    const key = sessionKey(id);
    const now = Date.now();
    const state = withWrite(
      {
        ...session.values.state,
        created: now,
        seen: now,
        issued: now,
        writes: "",
      },
      writeId,
    );
    const checks: StoreCheck[] = [{ key, versionstamp: null }];
    const deletes: StoreKey[] = [];
    const sets = session.io.saveSets(
      key,
      session.io.encode(store, state),
      state,
      now,
    );
    session.dropStale(checks, deletes);
    const result = await session.io.commitOrFind(
      store,
      { checks, sets, deletes },
      key,
      writeId,
    );
    if (result !== null) {
      session.settle(token, result, state, writeId);
      return;
    }
    // Only a stale record changing under us can fail this: forget it.
    session.forgetStale();
    session.events.emit({ type: "conflict-retried", sessionId: null, attempt });
    if (attempt >= options.maxAttempts) {
      throw new SessionConflictError(attempt);
    }
  }
}
