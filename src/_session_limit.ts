// maxSessionsPerUser: after a login, the user's sessions beyond the limit
// are ended, oldest first. Read through the per-user index that login
// writes in the same commit as the session, so nothing scans the store.
// Every login looks after its own commit and ends what is not among the
// newest `max` of what it sees, in one order all agree on (creation time,
// then id). A session that is not among the newest `max` of some of the
// sessions is not among the newest `max` of all of them either, so racing
// logins never end too many, and whichever looks last sees every one: the
// newest `max` remain, whatever the interleaving.

import {
  recordOf,
  sessionKey,
  type StoreAccess,
  userSessionKey,
} from "./_store_access.ts";
import type { SessionStore, StoreKey } from "./store.ts";

/** Ends all but the newest `max` live sessions of `user`. */
export async function limitSessions(
  io: StoreAccess,
  store: SessionStore,
  user: string,
  max: number,
): Promise<void> {
  const entries = await io.userIndex(store, user);
  if (entries.length <= max) return;
  const live: { id: string; created: number }[] = [];
  for (const entry of entries) {
    const id = entry.key[2]!;
    const found = await io.get(store, sessionKey(id));
    const record = found === null ? null : recordOf(found.value);
    if (record === null || record.user !== user || !io.alive(record)) {
      continue; // gone or dead: not counted (listSessions drops its entry)
    }
    live.push({ id, created: record.created });
  }
  // Newest first; the id breaks ties so racing logins agree.
  live.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1));
  const ended: StoreKey[] = [];
  for (const { id } of live.slice(max)) {
    ended.push(userSessionKey(user, id), sessionKey(id));
  }
  if (ended.length > 0) await io.commit(store, [], [], ended);
}
