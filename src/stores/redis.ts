/**
 * A {@link SessionStore} on Redis or Valkey.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { tokenId } from "../_token.ts";
import type {
  SessionStore,
  StoreCommit,
  StoreEntry,
  StoreKey,
} from "../store.ts";
import { COMMIT, INDEX_READ, type Script } from "./_redis_scripts.ts";
import { compareKeys } from "./_compare_keys.ts";
import { asArray, asString, isNil, isNoScript } from "./_resp.ts";

/**
 * The part of a Redis client that {@link redisStore} uses: one command with
 * string arguments. Bun's `RedisClient` (and `Bun.redis`) fits as it is;
 * node-redis and ioredis fit through a one-line shim.
 *
 * `key` is the first key the command touches (absent for keyless commands
 * such as `SCAN`): a cluster client routes by it. Clients of one server
 * ignore it.
 */
export interface RedisClientLike {
  /**
   * Sends one command.
   *
   * @param command The command name, e.g. `"EVALSHA"`.
   * @param args Its arguments.
   * @param key The first key it touches, for clients that route by slot.
   * @returns The decoded reply; a Redis error reply rejects.
   */
  send(command: string, args: string[], key?: string): Promise<unknown>;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Put before every Redis key tessera writes, so sessions can share a
   * database with other data.
   *
   * @default {"tessera:"}
   */
  prefix?: string;
  /**
   * The largest value one entry may hold, in bytes. Matches Deno KV so that
   * an application behaves the same on every store.
   *
   * @default {65536}
   */
  maxValueBytes?: number;
}

/** Where a store key lives in Redis. */
type Location =
  | { readonly kind: "s"; readonly key: string }
  | {
    readonly kind: "i";
    /** The user's sorted set; its hash is `set + ":data"`. */
    readonly set: string;
    readonly member: string;
    readonly user: string;
  };

const STAMP_LENGTH = 32;
const textDecoder = new TextDecoder("utf-8", { fatal: true });
const textEncoder = new TextEncoder();

/**
 * Stores sessions in Redis (or Valkey), with the same checked, atomic
 * commits as {@link kvStore}: each commit is one Lua script (`EVALSHA`, with
 * `EVAL` when the server has not cached it) that compares every
 * versionstamp and then applies all writes, or none. No `WATCH`/`MULTI`, so
 * clients that share one connection between callers stay safe.
 *
 * A session is one string key; a user's index is a sorted set (session id
 * scored by the session's hard end) with a hash beside it, under a key
 * derived from the SHA-256 of the user id, so any id is safe. `PEXPIRE`
 * only collects garbage: tessera checks its timeouts on every read. Read
 * from the primary only (never a replica: a stale "absent" would start a
 * new session, a stale index would miss sessions on revoke) and run Redis
 * with `maxmemory-policy noeviction`; see docs/scaling.md.
 *
 * Listing serves `["user", id]` from the index. Any other prefix scans the
 * database (`SCAN`), which is meant for tests and tooling, not requests.
 * Keys under `"user"` other than `["user", userId, sessionId]` are refused.
 *
 * @param client A connected client: Bun's `RedisClient`, or a shim.
 * @param options Key prefix and value size limit.
 * @returns A store for `withSession`'s `store` option.
 * @throws {TypeError} when `client` has no `send` function or an option is
 * of the wrong type; {@link RangeError} for an out-of-range option.
 *
 * @example Bun, node-redis and ioredis
 * ```ts ignore
 * import { redisStore, withSession } from "@tessera/session";
 *
 * // Bun: its built-in client fits as it is.
 * const store = redisStore(new Bun.RedisClient("redis://127.0.0.1:6379"));
 *
 * // node-redis: const r = await createClient({ url }).connect();
 * const store2 = redisStore({ send: (c, a) => r.sendCommand([c, ...a]) });
 *
 * // ioredis: const r = new Redis(url);
 * const store3 = redisStore({ send: (c, a) => r.call(c, ...a) });
 *
 * Bun.serve({ fetch: withSession(() => new Response("hi"), { store }) });
 * ```
 */
export function redisStore(
  client: RedisClientLike,
  options: RedisStoreOptions = {},
): SessionStore {
  if (
    typeof client !== "object" || client === null ||
    typeof client.send !== "function"
  ) {
    throw new TypeError(
      `redisStore() needs a client with send(command, args), got ${
        String(client)
      }`,
    );
  }
  const prefix = options.prefix ?? "tessera:";
  if (typeof prefix !== "string") {
    throw new TypeError(
      `redisStore() prefix must be a string, got ${String(prefix)}`,
    );
  }
  const maxValueBytes = options.maxValueBytes ?? 65_536;
  if (
    !Number.isSafeInteger(maxValueBytes) || maxValueBytes <= 0 ||
    maxValueBytes > 512 * 1024 * 1024
  ) {
    throw new RangeError(
      `redisStore() maxValueBytes must be an integer from 1 to 536870912, got ${maxValueBytes}`,
    );
  }

  function locate(key: StoreKey): Location {
    if (key[0] !== "user") {
      return { kind: "s", key: prefix + key.map(encodeURIComponent).join("/") };
    }
    const [, user, member] = key;
    if (key.length !== 3 || !user || !member) {
      throw new RangeError(
        `redisStore() keeps ["user", userId, sessionId] keys in a per-user index; it cannot store ${
          JSON.stringify(key)
        }`,
      );
    }
    return { kind: "i", set: indexKey(user), member, user };
  }

  function indexKey(user: string): string {
    // A hash tag, so a user's sorted set and hash share a cluster slot.
    return `${prefix}user:{${tokenId(user)}}`;
  }

  async function run(
    script: Script,
    keys: string[],
    args: string[],
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await client.send("EVALSHA", [script.sha, ...tail], keys[0]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await client.send("EVAL", [script.source, ...tail], keys[0]);
    }
  }

  async function readIndex(
    user: string,
    member: string,
  ): Promise<[string, string][]> {
    const set = indexKey(user);
    const flat = asArray(
      await run(INDEX_READ, [set, `${set}:data`], [member]),
      "an index read",
    );
    const out: [string, string][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      out.push([
        asString(flat[i], "an index read"),
        asString(flat[i + 1], "an index read"),
      ]);
    }
    return out;
  }

  async function scanKeys(pattern: string): Promise<string[]> {
    const found = new Set<string>();
    let cursor = "0";
    // Bounded: SCAN ends when the cursor comes back to 0.
    do {
      const reply = asArray(
        await client.send("SCAN", [cursor, "MATCH", pattern, "COUNT", "1000"]),
        "SCAN",
      );
      cursor = asString(reply[0], "SCAN");
      for (const key of asArray(reply[1], "SCAN")) {
        found.add(asString(key, "SCAN"));
      }
    } while (cursor !== "0");
    return [...found];
  }

  return {
    maxValueBytes,
    async get(key: StoreKey): Promise<StoreEntry | null> {
      const at = locate(key);
      if (at.kind === "s") {
        const reply = await client.send("GET", [at.key], at.key);
        return isNil(reply) ? null : entry(key, asString(reply, "GET"));
      }
      const [found] = await readIndex(at.user, at.member);
      return found === undefined ? null : entry(key, found[1]);
    },
    async commit(change: StoreCommit): Promise<string | null> {
      const keys: string[] = [];
      const slots = new Map<string, number>();
      const args: string[] = [
        randomBytes(8).toString("hex"),
        String(change.checks.length),
        String(change.deletes.length),
        String(change.sets.length),
      ];
      // Adds a key (and, for an index, its hash right after it) once.
      const slot = (at: Location): string => {
        const first = at.kind === "s" ? at.key : at.set;
        let index = slots.get(first);
        if (index === undefined) {
          index = keys.length + 1;
          slots.set(first, index);
          keys.push(first);
          if (at.kind === "i") keys.push(`${at.set}:data`);
        }
        return String(index);
      };
      const member = (at: Location): string => at.kind === "i" ? at.member : "";
      for (const check of change.checks) {
        const at = locate(check.key);
        args.push(at.kind, slot(at), member(at), check.versionstamp ?? "");
      }
      for (const key of change.deletes) {
        const at = locate(key);
        args.push(at.kind, slot(at), member(at));
      }
      for (const set of change.sets) {
        if (set.value.byteLength > maxValueBytes) {
          throw new RangeError(
            `Value of ${set.value.byteLength} bytes is over the limit of ${maxValueBytes} bytes`,
          );
        }
        const at = locate(set.key);
        const expireIn = set.expireIn === undefined
          ? ""
          : String(Math.max(1, Math.ceil(set.expireIn)));
        args.push(
          at.kind,
          slot(at),
          member(at),
          encodeValue(set.value),
          expireIn,
          at.kind === "i" ? at.user : "",
        );
      }
      if (keys.length === 0) {
        // Nothing to check or write: a commit of nothing holds.
        return "0".repeat(STAMP_LENGTH);
      }
      const reply = await run(COMMIT, keys, args);
      return isNil(reply) ? null : asString(reply, "a commit");
    },
    async *list(keyPrefix: StoreKey): AsyncIterable<StoreEntry> {
      if (keyPrefix[0] === "user" && keyPrefix.length >= 2) {
        // A user's index; a full index key has no children.
        if (keyPrefix.length > 2) return;
        const user = keyPrefix[1]!;
        const found = await readIndex(user, "");
        found.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
        for (const [member, data] of found) {
          yield entry(["user", user, member], data);
        }
        return;
      }
      // Tooling path: a scan of every tessera key.
      const entries: StoreEntry[] = [];
      for (const redisKey of await scanKeys(`${globEscape(prefix)}*`)) {
        const rest = redisKey.slice(prefix.length);
        if (rest.startsWith("user:{")) {
          const wanted = keyPrefix.length === 0 ||
            (keyPrefix.length === 1 && keyPrefix[0] === "user");
          if (rest.endsWith(":data") || !wanted) continue;
          const user = await client.send("HGET", [`${redisKey}:data`, ""]);
          if (isNil(user)) continue;
          const id = asString(user, "HGET");
          for (const [member, data] of await readIndex(id, "")) {
            entries.push(entry(["user", id, member], data));
          }
          continue;
        }
        const key = rest.split("/").map(decodeURIComponent);
        if (
          key.length <= keyPrefix.length ||
          !keyPrefix.every((part, i) => key[i] === part)
        ) continue;
        const reply = await client.send("GET", [redisKey], redisKey);
        if (!isNil(reply)) entries.push(entry(key, asString(reply, "GET")));
      }
      entries.sort((a, b) => compareKeys(a.key, b.key));
      yield* entries;
    },
  };
}

/** A stored value: UTF-8 text as it is, other bytes as base64. */
function encodeValue(value: Uint8Array): string {
  try {
    return "t" + textDecoder.decode(value);
  } catch {
    let binary = "";
    for (const byte of value) binary += String.fromCharCode(byte);
    return "b" + btoa(binary);
  }
}

function entry(key: StoreKey, stored: string): StoreEntry {
  const versionstamp = stored.slice(0, STAMP_LENGTH);
  const body = stored.slice(STAMP_LENGTH + 1);
  let value: Uint8Array;
  if (stored[STAMP_LENGTH] === "t") value = textEncoder.encode(body);
  else if (stored[STAMP_LENGTH] === "b") {
    try {
      value = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
    } catch {
      value = new Uint8Array(0);
    }
  } else {
    // Not written by tessera: handed on as empty bytes, a corrupt record
    // for the caller, never a missing one.
    value = new Uint8Array(0);
  }
  return { key, value, versionstamp };
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
