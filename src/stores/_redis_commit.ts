// A commit of redisStore as the COMMIT script takes it: located operations,
// turned into KEYS and ARGV. On one Redis the whole commit is one call; on
// Cluster each slot's share is (see _redis_cluster.ts).
import { randomBytes } from "node:crypto";
import { COMMIT } from "./_redis_scripts.ts";

/** Where a store key lives in Redis. */
export type Location =
  | { readonly kind: "s"; readonly key: string }
  | {
    readonly kind: "i";
    /** The user's sorted set; its hash is `set + ":data"`. */
    readonly set: string;
    readonly member: string;
    readonly user: string;
  };

/** The operations of a commit (or of one slot's share of it). */
export interface Ops {
  readonly checks: readonly {
    readonly at: Location;
    readonly stamp: string | null;
  }[];
  readonly deletes: readonly {
    readonly at: Location;
    /** Index only: spare a member written at or after this server µs. */
    readonly before?: string;
  }[];
  readonly sets: readonly {
    readonly at: Location;
    /** The encoded value ("t" or "b" and the payload). */
    readonly value: string;
    /** Milliseconds, or "" for no expiry. */
    readonly px: string;
  }[];
}

/** The key a location's slot is computed from. */
export function slotKey(at: Location): string {
  return at.kind === "s" ? at.key : at.set;
}

/** KEYS and ARGV of a COMMIT call; `suffix` is the random half of the new
 * versionstamp. */
export function commitCall(
  ops: Ops,
  suffix: string,
): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const indexes = new Map<string, number>();
  const args: string[] = [
    suffix,
    String(ops.checks.length),
    String(ops.deletes.length),
    String(ops.sets.length),
  ];
  // Adds a key (and, for an index, its hash right after it) once.
  const slot = (at: Location): string => {
    const first = slotKey(at);
    let index = indexes.get(first);
    if (index === undefined) {
      index = keys.length + 1;
      indexes.set(first, index);
      keys.push(first);
      if (at.kind === "i") keys.push(`${at.set}:data`);
    }
    return String(index);
  };
  const member = (at: Location): string => at.kind === "i" ? at.member : "";
  for (const { at, stamp } of ops.checks) {
    args.push(at.kind, slot(at), member(at), stamp ?? "");
  }
  for (const { at, before } of ops.deletes) {
    args.push(at.kind, slot(at), member(at), before ?? "");
  }
  for (const { at, value, px } of ops.sets) {
    args.push(
      at.kind,
      slot(at),
      member(at),
      value,
      px,
      at.kind === "i" ? at.user : "",
    );
  }
  return { keys, args };
}

/**
 * The `EVALSHA` arguments (the SHA first) of the common save: one plain
 * key checked against `stamp` and set to `value` (encoded, "t" or "b" and
 * the payload) with `px`. The same KEYS and ARGV as {@link commitCall}
 * lays out for that commit, written out: no located operations, no key
 * Map, no spreads, on the path of nearly every save.
 */
export function saveCall(
  key: string,
  stamp: string | null,
  value: string,
  px: string,
): string[] {
  return [
    COMMIT.sha,
    "1",
    key,
    stampSuffix(),
    "1",
    "0",
    "1",
    "s",
    "1",
    "",
    stamp ?? "",
    "s",
    "1",
    "",
    value,
    px,
    "",
  ];
}

let suffixes = "";
let suffixAt = 0;

/**
 * 16 random hex digits, the random half of a new versionstamp (and how a
 * Cluster commit knows its own writes). Drawn from the CSPRNG 256 at a
 * time: one draw per commit cost about 0.7 µs, on Bun and Deno alike, more
 * than the rest of building the commit.
 */
export function stampSuffix(): string {
  if (suffixAt === suffixes.length) {
    suffixes = randomBytes(2048).toString("hex");
    suffixAt = 0;
  }
  return suffixes.slice(suffixAt, suffixAt += 16);
}
