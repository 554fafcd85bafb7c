// redisStore on Redis Cluster. A script may only touch keys of one hash
// slot, and a session key and its user's index never share one, so a commit
// spanning slots runs as one COMMIT per slot, in an order that keeps the
// index's promise (it may list more sessions than are live, never fewer):
//
//   1. index adds (and the clock of every index that loses members);
//   2. fresh parts: sessions created under a new id, checked absent — no
//      one holds their token yet, so they are undone (deleted) if 3 fails;
//   3. the decisive part: the checks of existing entries with their writes
//      (tessera's commits have at most one; more are verified first);
//   4. unchecked plain writes (a revocation's deletes);
//   5. the index again: members added in 1 re-added if 2 created a session
//      (a revocation may have removed them in between), and removals, which
//      spare a member written after the clock of 1 (a login's re-add).
//
// Each part is atomic on its node; nothing spans slots.
import { COMMIT, NOW, SCAN, type Script, UNDO } from "./_redis_scripts.ts";
import {
  commitCall,
  type Location,
  type Ops,
  slotKey,
} from "./_redis_commit.ts";
import { keyInSlot, keySlot } from "./_redis_slot.ts";
import { asArray, asString, isNil } from "./_resp.ts";

/** How redisStore reaches the cluster: scripts routed by their first key,
 * and commands routed by the key given (none: any node). */
export interface ClusterIo {
  run(script: Script, keys: string[], args: string[]): Promise<unknown>;
  send(command: string, args: string[], key?: string): Promise<unknown>;
}

type Check = Ops["checks"][number];
type Delete = Ops["deletes"][number];
type Write = Ops["sets"][number];

/** One slot's share of a commit. */
interface Part {
  checks: Check[];
  deletes: Delete[];
  sets: Write[];
}

const ZERO = "0".repeat(32);

/** Applies a commit whose keys span several slots (see the top of file). */
export async function splitCommit(
  io: ClusterIo,
  ops: Ops,
  suffix: string,
): Promise<string | null> {
  const adds = new Map<number, Part>();
  const removals = new Map<number, Part>();
  const plain = new Map<number, Part>();
  const indexChecks = new Map<number, Part>();
  const home = new Map<Write, Part>();
  const added = new Set<string>();
  for (const set of ops.sets) {
    const part = take(set.at.kind === "i" ? adds : plain, set.at);
    part.sets.push(set);
    home.set(set, part);
    if (set.at.kind === "i") added.add(memberOf(set.at));
  }
  for (const del of ops.deletes) {
    if (del.at.kind === "s") take(plain, del.at).deletes.push(del);
    // A member this commit also writes stays: the write wins, as on one Redis.
    else if (!added.has(memberOf(del.at))) {
      take(removals, del.at).deletes.push(del);
    }
  }
  for (const check of ops.checks) {
    take(check.at.kind === "s" ? plain : indexChecks, check.at).checks.push(
      check,
    );
  }
  // An index slot with checks keeps its writes beside them, atomic there.
  for (const [slot, part] of indexChecks) {
    part.sets.push(...(adds.get(slot)?.sets ?? []));
    part.deletes.push(...(removals.get(slot)?.deletes ?? []));
    for (const set of part.sets) home.set(set, part);
    adds.delete(slot);
    removals.delete(slot);
  }
  const fresh: Part[] = [];
  const decisive: Part[] = [...indexChecks.values()];
  const free: Part[] = [];
  for (const part of plain.values()) {
    if (part.checks.length === 0) free.push(part);
    else if (isFresh(part)) fresh.push(part);
    else decisive.push(part);
  }
  const results = new Map<Part, string>();
  const commit = async (part: Part): Promise<string | null> => {
    const { keys, args } = commitCall(part, suffix);
    const reply = await io.run(COMMIT, keys, args);
    if (isNil(reply)) return null;
    const stamp = asString(reply, "a commit");
    results.set(part, stamp);
    return stamp;
  };

  if (decisive.length > 1) {
    // Not one of tessera's commits: check every slot first, so that a stale
    // versionstamp writes nothing (atomic unless an entry changes meanwhile).
    const verified = await Promise.all(
      decisive.map((part) => commit({ ...part, deletes: [], sets: [] })),
    );
    results.clear();
    if (verified.includes(null)) return null;
  }

  // 1. The index first; the clock before any session is ended.
  const [clocks] = await Promise.all([
    Promise.all(
      [...removals.values()].map(async (part) =>
        asString(
          await io.run(NOW, [slotKey(part.deletes[0]!.at)], []),
          "TIME",
        )
      ),
    ),
    Promise.all([...adds.values()].map(commit)),
  ]);

  // 2. Fresh sessions, undone if anything before 3 holds fails.
  const created = await Promise.allSettled(fresh.map(commit));
  const refused = created.find((r) => r.status === "rejected");
  if (refused || created.some((r) => r.status === "fulfilled" && !r.value)) {
    await undo(io, fresh, suffix);
    if (refused) throw (refused as PromiseRejectedResult).reason;
    return null;
  }

  // 3. The checks of existing entries, with their writes.
  for (const [i, part] of decisive.entries()) {
    let result: string | null;
    try {
      result = await commit(part);
    } catch (error) {
      if (fresh.length === 0 || i > 0) throw error;
      // Applied or not? The fresh sessions must go unless it was.
      result = await applied(io, part, suffix);
      if (result === null) {
        await undo(io, fresh, suffix);
        throw error;
      }
      results.set(part, result);
    }
    if (result === null) {
      if (i > 0) {
        throw new Error(
          `redisStore: a Redis Cluster commit checking entries in ${decisive.length} slots met a concurrent change after its first slot was written`,
        );
      }
      await undo(io, fresh, suffix);
      return null;
    }
  }

  // 4. Unchecked writes.
  await Promise.all(free.map(commit));

  // 5. The index last.
  const last = new Map<number, Part>();
  if (fresh.length > 0) {
    for (const [slot, part] of adds) bucket(last, slot).sets.push(...part.sets);
  }
  [...removals].forEach(([slot, part], i) => {
    bucket(last, slot).deletes.push(
      ...part.deletes.map((del) => ({ ...del, before: clocks[i]! })),
    );
  });
  await Promise.all([...last.values()].map(commit));

  // The stamp of the session this commit created, else of its first write.
  const primary = fresh[0] ?? (ops.sets[0] && home.get(ops.sets[0]));
  return (primary && results.get(primary)) ?? results.values().next().value ??
    ZERO;
}

/** Whether every key of a commit hashes to one slot (a prefix with a hash
 * tag puts all of them in one): then it is one script, as on one Redis. */
export function inOneSlot(ops: Ops): boolean {
  let slot: number | undefined;
  for (const list of [ops.checks, ops.deletes, ops.sets]) {
    for (const { at } of list) {
      const here = keySlot(slotKey(at));
      if (slot === undefined) slot = here;
      else if (here !== slot) return false;
    }
  }
  return true;
}

/**
 * The routing keys of every master, one each (a key in a slot it serves),
 * for the keyless commands of the tooling list: `SCAN` runs on each.
 */
export async function masterRoutes(io: ClusterIo): Promise<string[]> {
  const routes = new Map<string, string>();
  for (const range of asArray(await io.send("CLUSTER", ["SLOTS"]), "SLOTS")) {
    const [start, , master] = asArray(range, "CLUSTER SLOTS");
    const [host, port] = asArray(master, "CLUSTER SLOTS");
    const node = `${asString(host, "SLOTS")}:${asString(port, "SLOTS")}`;
    if (!routes.has(node)) {
      routes.set(node, keyInSlot(Number(asString(start, "CLUSTER SLOTS"))));
    }
  }
  return [...routes.values()];
}

/** One SCAN step on the master of `route`. */
export function scanOn(
  io: ClusterIo,
  route: string,
  cursor: string,
  pattern: string,
): Promise<unknown> {
  return io.run(SCAN, [route], [cursor, pattern, "1000"]);
}

function take(parts: Map<number, Part>, at: Location): Part {
  return bucket(parts, keySlot(slotKey(at)));
}

function bucket(parts: Map<number, Part>, slot: number): Part {
  let part = parts.get(slot);
  if (part === undefined) {
    part = { checks: [], deletes: [], sets: [] };
    parts.set(slot, part);
  }
  return part;
}

function memberOf(at: Location): string {
  return at.kind === "i" ? `${at.set}\n${at.member}` : at.key;
}

/** A part that only creates keys it checked absent: deleting them undoes it. */
function isFresh(part: Part): boolean {
  const absent = new Set<string>();
  for (const check of part.checks) {
    if (check.stamp !== null) return false;
    absent.add(memberOf(check.at));
  }
  return part.sets.every((set) => absent.has(memberOf(set.at))) &&
    part.deletes.every((del) => absent.has(memberOf(del.at)));
}

/** Deletes what the fresh parts created (only keys still carrying this
 * commit's stamp); best effort, as the caller reports the failure anyway. */
async function undo(io: ClusterIo, fresh: Part[], suffix: string) {
  await Promise.allSettled(
    fresh.filter((part) => part.sets.length > 0).map((part) =>
      io.run(UNDO, part.sets.map((set) => slotKey(set.at)), [suffix])
    ),
  );
}

/**
 * After a decisive part failed without an answer: its stamp if it was
 * applied (a write carries this commit's suffix; a delete-only part left its
 * keys gone), `null` if not or when that cannot be read.
 */
async function applied(
  io: ClusterIo,
  part: Part,
  suffix: string,
): Promise<string | null> {
  if (part.checks.some((check) => check.at.kind !== "s")) return null;
  try {
    const stamp = async (at: Location): Promise<string | null> => {
      const key = slotKey(at);
      const reply = await io.send("GET", [key], key);
      return isNil(reply) ? null : asString(reply, "GET").slice(0, 32);
    };
    if (part.sets.length > 0) {
      const found = await stamp(part.sets[0]!.at);
      return found !== null && found.slice(16) === suffix ? found : null;
    }
    for (const check of part.checks) {
      if (await stamp(check.at) !== null) return null;
    }
    return ZERO;
  } catch {
    return null;
  }
}
