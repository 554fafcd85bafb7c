// Token renewal (OWASP's renewal timeout): a session whose token is older
// than `renewInterval` moves to a new token in one commit that also turns
// the old record into a short-lived forward to the new one. Requests the
// browser sent in parallel with the old token follow the forward to the same
// session for `renewGrace`; they save there and never issue a token, so
// the session neither fails nor forks.
import { encodeForward } from "./_forward.ts";
import { newWriteId, withWrite } from "./_record.ts";
import { sessionKey, userSessionKey } from "./_store_access.ts";
import type { StoredSession } from "./_stored_session.ts";
import { newToken, tokenId } from "./_token.ts";
import { worthStoring } from "./_values.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { StoreKey } from "./store.ts";
import type { SideSet } from "./stores/_side.ts";

/**
 * Moves the session, with this request's changes, to a new token. Returns
 * `false`, changing nothing, when the session changed since it was read (a
 * parallel request wrote or renewed first): the caller saves as usual.
 */
export async function renew(
  session: StoredSession,
  options: ResolvedOptions,
): Promise<boolean> {
  const state = session.values.state;
  if (!worthStoring(state)) return false; // emptied: the save deletes it
  const io = session.io;
  const store = await io.store();
  const oldId = session.id!;
  const oldKey = sessionKey(oldId);
  const token = newToken();
  const id = tokenId(token);
  const key = sessionKey(id);
  const writeId = newWriteId();
  const now = Date.now();
  const grace = options.renewGrace;
  const next = withWrite(
    { ...state, seen: now, issued: now, writes: "" },
    writeId,
  );
  const sets: SideSet[] = [{
    key: oldKey,
    value: encodeForward({ to: id, until: now + grace, https: session.https }),
    expireIn: grace,
  }, ...io.saveSets(key, io.encode(store, next), next, now)];
  const deletes: StoreKey[] = [];
  if (next.user !== null) deletes.push(userSessionKey(next.user, oldId));
  const result = await io.commitOrFind(
    store,
    {
      checks: [{ key: oldKey, versionstamp: session.versionstamp }, {
        key,
        versionstamp: null,
      }],
      sets,
      deletes,
    },
    key,
    writeId,
  );
  if (result === null) return false;
  session.settle(token, result, next, writeId);
  session.events.emit({
    type: "renewed",
    sessionId: session.id,
    previousSessionId: oldId,
    userId: next.user,
  });
  return true;
}
