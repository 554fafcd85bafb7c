/**
 * A {@link SessionStore} on Redis or Valkey.
 *
 * @module
 */
import { tokenId } from "../_token.ts";
import type { SessionStore, StoreEntry, StoreKey } from "../store.ts";
import { COMMIT, INDEX_READ, type Script } from "./_redis_scripts.ts";
import {
  commitCall,
  type Location,
  type Ops,
  saveCall,
  slotKey,
  stampSuffix,
} from "./_redis_commit.ts";
import {
  type ClusterIo,
  inOneSlot,
  masterRoutes,
  scanOn,
  splitCommit,
} from "./_redis_cluster.ts";
import { compareKeys } from "./_compare_keys.ts";
import { asArray, asString, isNil, isNoScript } from "./_resp.ts";
import {
  oversize,
  type SideCommit,
  type SideEntry,
  type SideSet,
  type SideValue,
  valueBytes,
  withSides,
} from "./_side.ts";

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
  /**
   * Whether the server is a Redis Cluster. There a script may only touch
   * keys of one hash slot, so a commit that spans slots (a login writes the
   * session and its user's index) is split into one script per slot, in an
   * order that keeps every live session in the index (docs/scaling.md says
   * what stays atomic). Not given: asked of the server once (`INFO
   * cluster`), on the first commit that spans slots. The client must route
   * by the `key` that {@link RedisClientLike.send} passes.
   *
   * @default {undefined (detected)}
   */
  cluster?: boolean;
}

const STAMP_LENGTH = 32;
const textDecoder = new TextDecoder("utf-8", { fatal: true });

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
 * On Redis Cluster (detected, or `options.cluster`), a commit that spans
 * hash slots runs as one script per slot, ordered so that the index never
 * lists fewer live sessions than exist: index adds first, then the session
 * with its check, index removals last; docs/scaling.md says what stays
 * atomic.
 *
 * Listing serves `["user", id]` from the index. Any other prefix scans the
 * database (`SCAN`, on every master of a cluster), which is meant for tests
 * and tooling, not requests.
 * Keys under `"user"` other than `["user", userId, sessionId]` are refused.
 *
 * @param client A connected client: Bun's `RedisClient`, or a shim.
 * @param options Key prefix, value size limit, and whether it is a cluster.
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
 * // ioredis: const r = new Redis(url); or new Cluster([...]), which
 * // routes by the command's keys itself.
 * const store3 = redisStore({ send: (c, a) => r.call(c, ...a) });
 *
 * // node-redis on Redis Cluster: const c = await createCluster(…).connect();
 * // it routes by the key, the third argument of send.
 * const store4 = redisStore({
 *   send: (cmd, a, key) => c.sendCommand(key, false, [cmd, ...a]),
 * });
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
  const cluster = options.cluster;
  if (cluster !== undefined && typeof cluster !== "boolean") {
    throw new TypeError(
      `redisStore() cluster must be a boolean, got ${String(cluster)}`,
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

  function tooLarge(bytes: number): RangeError {
    return new RangeError(
      `Value of ${bytes} bytes is over the limit of ${maxValueBytes} bytes`,
    );
  }

  /** The Redis key of `["session", id]`, or `undefined` for any other. */
  function sessionRedisKey(key: StoreKey): string | undefined {
    // A session id is base64url, which encodeURIComponent leaves as it
    // is: the same Redis key, without two encodes and a join per call.
    const id = key[1];
    return key.length === 2 && key[0] === "session" && UNRESERVED.test(id!)
      ? `${prefix}session/${id}`
      : undefined;
  }

  function locate(key: StoreKey): Location {
    if (key[0] !== "user") {
      const session = sessionRedisKey(key);
      if (session !== undefined) return { kind: "s", key: session };
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

  function run(
    script: Script,
    keys: string[],
    args: string[],
  ): Promise<unknown> {
    return evalSha(
      script,
      [script.sha, String(keys.length), ...keys, ...args],
      asIs,
    );
  }

  /** `EVALSHA` with `call` (the SHA, the key count, keys, arguments), and
   * `EVAL` of the source when the server has not cached the script; the
   * reply through `then`, in the same promise step as the fallback. */
  function evalSha<T>(
    script: Script,
    call: string[],
    then: (reply: unknown) => T,
  ): Promise<T> {
    const key = call[1] === "0" ? undefined : call[2];
    return sent("EVALSHA", call, key).then(then, (error) => {
      if (!isNoScript(error)) throw error;
      call[0] = script.source;
      return sent("EVAL", call, key).then(then);
    });
  }

  /** `client.send`, a throw from it as a rejection. The request path's
   * calls are promise chains, not async functions: on Bun each async
   * function is a promise step more per call. */
  function sent(
    command: string,
    args: string[],
    key: string | undefined,
  ): Promise<unknown> {
    try {
      return Promise.resolve(client.send(command, args, key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  const io: ClusterIo = { run, send: (c, a, key) => client.send(c, a, key) };
  let clustered: boolean | Promise<boolean> | undefined = cluster;
  /** Whether the server is a cluster: the option, or asked once. */
  function isCluster(): boolean | Promise<boolean> {
    if (clustered !== undefined) return clustered;
    const asked = client.send("INFO", ["cluster"]).then(
      (reply) => clustered = /cluster_enabled:1/.test(asString(reply, "INFO")),
      (error) => {
        clustered = undefined; // asked again next time
        throw error;
      },
    );
    return clustered = asked;
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

  /** Every key matching `pattern`: a SCAN of the server, or of each
   * master of a cluster. */
  async function scanKeys(pattern: string): Promise<string[]> {
    const found = new Set<string>();
    const routes = await isCluster() ? await masterRoutes(io) : [undefined];
    for (const route of routes) {
      let cursor = "0";
      // Bounded: SCAN ends when the cursor comes back to 0.
      do {
        const reply = asArray(
          route === undefined
            ? await client.send("SCAN", [
              cursor,
              "MATCH",
              pattern,
              "COUNT",
              "1000",
            ])
            : await scanOn(io, route, cursor, pattern),
          "SCAN",
        );
        cursor = asString(reply[0], "SCAN");
        for (const key of asArray(reply[1], "SCAN")) {
          found.add(asString(key, "SCAN"));
        }
      } while (cursor !== "0");
    }
    return [...found];
  }

  /** A value as stored text comes back: text as text (tessera's own
   * side), other bytes as bytes. */
  function get(key: StoreKey): Promise<SideEntry | null> {
    let at: Location;
    try {
      at = locate(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (at.kind === "s") {
      return sent("GET", [at.key], at.key).then((reply) =>
        isNil(reply) ? null : entry(key, asString(reply, "GET"))
      );
    }
    return readIndex(at.user, at.member).then(([found]) =>
      found === undefined ? null : entry(key, found[1])
    );
  }

  /** A commit of bytes (the public API) or text (tessera's own side). */
  function commit(change: SideCommit): Promise<string | null> {
    const { checks, sets } = change;
    if (
      checks.length === 1 && sets.length === 1 &&
      change.deletes.length === 0 && checks[0]!.key === sets[0]!.key
    ) {
      const key = sessionRedisKey(sets[0]!.key);
      if (key !== undefined) {
        return save(key, checks[0]!.versionstamp, sets[0]!);
      }
    }
    return commitOps(change);
  }

  /** The common save: one session key checked and set ({@link saveCall});
   * one key is one slot, on a cluster too. */
  function save(
    key: string,
    stamp: string | null,
    set: SideSet,
  ): Promise<string | null> {
    const over = oversize(set.value, maxValueBytes);
    if (over !== undefined) return Promise.reject(tooLarge(over));
    return evalSha(
      COMMIT,
      saveCall(key, stamp, encodeValue(set.value), expiry(set.expireIn)),
      commitReply,
    );
  }

  /** Any commit: located operations, split by slot on a cluster. */
  async function commitOps(change: SideCommit): Promise<string | null> {
    const ops: Ops = {
      checks: change.checks.map((check) => ({
        at: locate(check.key),
        stamp: check.versionstamp,
      })),
      deletes: change.deletes.map((key) => ({ at: locate(key) })),
      sets: change.sets.map((set) => {
        const over = oversize(set.value, maxValueBytes);
        if (over !== undefined) throw tooLarge(over);
        return {
          at: locate(set.key),
          value: encodeValue(set.value),
          px: expiry(set.expireIn),
        };
      }),
    };
    const suffix = stampSuffix();
    const { keys, args } = commitCall(ops, suffix);
    if (keys.length === 0) {
      // Nothing to check or write: a commit of nothing holds.
      return "0".repeat(STAMP_LENGTH);
    }
    const onCluster = spansKeys(ops) && isCluster();
    // Known after the first question: no await on the request path.
    if (
      (onCluster === true || (onCluster && await onCluster)) &&
      !inOneSlot(ops)
    ) {
      return await splitCommit(io, ops, suffix);
    }
    const reply = await run(COMMIT, keys, args);
    return isNil(reply) ? null : asString(reply, "a commit");
  }

  const store: SessionStore = {
    maxValueBytes,
    async get(key: StoreKey): Promise<StoreEntry | null> {
      return asBytes(await get(key));
    },
    commit,
    async *list(keyPrefix: StoreKey): AsyncIterable<StoreEntry> {
      if (keyPrefix[0] === "user" && keyPrefix.length >= 2) {
        // A user's index; a full index key has no children.
        if (keyPrefix.length > 2) return;
        const user = keyPrefix[1]!;
        const found = await readIndex(user, "");
        found.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
        for (const [member, data] of found) {
          yield asBytes(entry(["user", user, member], data))!;
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
          const hash = `${redisKey}:data`;
          const user = await client.send("HGET", [hash, ""], hash);
          if (isNil(user)) continue;
          const id = asString(user, "HGET");
          for (const [member, data] of await readIndex(id, "")) {
            entries.push(asBytes(entry(["user", id, member], data))!);
          }
          continue;
        }
        const key = rest.split("/").map(decodeURIComponent);
        if (
          key.length <= keyPrefix.length ||
          !keyPrefix.every((part, i) => key[i] === part)
        ) continue;
        const reply = await client.send("GET", [redisKey], redisKey);
        if (!isNil(reply)) {
          entries.push(asBytes(entry(key, asString(reply, "GET")))!);
        }
      }
      entries.sort((a, b) => compareKeys(a.key, b.key));
      yield* entries;
    },
  };
  return withSides(store, { text: { get, commit } });
}

const asIs = (reply: unknown): unknown => reply;

/** A commit's reply: its versionstamp, or `null` when a check failed. */
function commitReply(reply: unknown): string | null {
  return isNil(reply) ? null : asString(reply, "a commit");
}

/** Characters encodeURIComponent leaves unescaped (a subset of them). */
const UNRESERVED = /^[A-Za-z0-9_.~-]+$/;

/** `PX` milliseconds of an `expireIn`, or "" for none. */
function expiry(expireIn: number | undefined): string {
  return expireIn === undefined ? "" : String(Math.max(1, Math.ceil(expireIn)));
}

/** An entry as the public API hands it out: bytes. */
function asBytes(found: SideEntry | null): StoreEntry | null {
  return found === null ? null : { ...found, value: valueBytes(found.value) };
}

/** A stored value: text (UTF-8 bytes are text) as it is, other bytes as
 * base64. */
function encodeValue(value: SideValue): string {
  if (typeof value === "string") return "t" + value;
  try {
    return "t" + textDecoder.decode(value);
  } catch {
    let binary = "";
    for (const byte of value) binary += String.fromCharCode(byte);
    return "b" + btoa(binary);
  }
}

function entry(key: StoreKey, stored: string): SideEntry {
  const versionstamp = stored.slice(0, STAMP_LENGTH);
  const body = stored.slice(STAMP_LENGTH + 1);
  let value: SideValue;
  if (stored[STAMP_LENGTH] === "t") value = body;
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

/** Whether a commit touches more than one Redis key (or index) and so,
 * on a cluster, possibly more than one slot. */
function spansKeys(ops: Ops): boolean {
  let first: string | undefined;
  for (const list of [ops.checks, ops.deletes, ops.sets]) {
    for (const { at } of list) {
      const key = slotKey(at);
      if (first === undefined) first = key;
      else if (key !== first) return true;
    }
  }
  return false;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
