// The stored form of a session: one JSON document as UTF-8 bytes, so Deno
// and Bun (through @deno/kv) read the same database.
import { randomBytes } from "node:crypto";
import { utf8Text } from "./_utf8.ts";

/** Version of the record layout; a record of another version is not loaded. */
export const RECORD_VERSION = 1;

/** A session's contents, as held in memory during a request. */
export interface SessionState {
  /** The session's values. A Map, so keys such as `__proto__` stay data. */
  data: Map<string, unknown>;
  /** Flash values, each kept until a request takes it. */
  flash: Map<string, unknown>;
  /** Creation time, ms since the epoch; the absolute timeout counts from it. */
  created: number;
  /** Last time a request was seen, ms; the idle timeout counts from it. */
  seen: number;
  /** When the current token was issued, ms; `renewInterval` counts from
   * it. Absent: at `created`. */
  issued?: number;
  /** This session's own lifetime from `created` (remember me), ms, in place
   * of both global timeouts; `null` or absent: the global timeouts apply. */
  life?: number | null;
  /** When the user last authenticated (login, reauthenticate), ms; absent:
   * at `created` when there is a user. */
  auth?: number | null;
  /** The bound user id, or `null`. */
  user: string | null;
  /** The CSRF token, created on first use. */
  csrf: string | null;
  /** What the application recorded about the login (device, …). */
  meta: Record<string, unknown> | null;
  /** Ids of the latest writes, oldest first, at most {@link RECENT_WRITES},
   * each {@link WRITE_ID_LENGTH} characters, in one string: one JSON string
   * to parse and write rather than an array of them (a third of the
   * record). */
  writes: string;
}

/**
 * Write ids a record remembers. A save that the store applied but reported
 * as failed (a lost reply) recognises its own write as long as fewer than
 * this many other writes landed on the session before it looked (it looks
 * at once); beyond that it takes the commit as not applied and replays its
 * operations, as after any conflict.
 */
export const RECENT_WRITES = 16;

/** Characters of a write id: 8 of the writer, 5 of its counter. */
export const WRITE_ID_LENGTH = 13;

/** The counter of a writer starts at the first 5-digit base-36 number, so
 * it is always 5 digits with no padding to add. */
const FIRST_COUNT = 36 ** 4;
/** Past the last 5-digit number a new prefix is drawn (58 million writes). */
const LAST_COUNT = 36 ** 5;

/**
 * A new write id, unique across processes and restarts: 6 random bytes
 * drawn per 58 million writes of a process, then a counter. Ids are
 * compared, never guessed at, so they need uniqueness, not secrecy, and
 * drawing random bytes on every save cost more than the rest of a
 * memory-store save. Fixed width, so a list of them is one string.
 */
export function newWriteId(): string {
  if (written === LAST_COUNT) {
    writer = randomBytes(6).toString("base64url");
    written = FIRST_COUNT;
  }
  return writer + (written++).toString(36);
}

let writer = randomBytes(6).toString("base64url");
let written = FIRST_COUNT;

/** `state` with `writeId` as its latest write, last seen at `seen`. */
export function withWrite(
  state: SessionState,
  writeId: string,
  seen: number = state.seen,
): SessionState {
  const { writes } = state;
  const full = (RECENT_WRITES - 1) * WRITE_ID_LENGTH;
  const kept = writes.length > full
    ? writes.slice(writes.length - full)
    : writes;
  return { ...state, seen, writes: kept + writeId };
}

/** Whether `writes` (a record's list) holds `writeId`. */
export function hasWrite(writes: string, writeId: string): boolean {
  for (
    let at = writes.indexOf(writeId);
    at !== -1;
    at = writes.indexOf(writeId, at + 1)
  ) {
    if (at % WRITE_ID_LENGTH === 0) return true;
  }
  return false;
}

/** A decoded record: the state plus the channel it belongs to. */
export interface SessionRecord extends SessionState {
  /** Whether the session belongs to the HTTPS channel. */
  readonly https: boolean;
  /** Whether its token travels as a bearer token, not in a cookie. */
  readonly bearer: boolean;
  /** The idle and absolute timeouts in force when it was last written,
   * for readers without the options (`listSessions`); `null` in records
   * from before they were written. */
  readonly limits: readonly [idle: number, absolute: number] | null;
}

const encoder = new TextEncoder();

/** Serialises a session to its stored bytes. */
export function encodeRecord(
  state: SessionState,
  https: boolean,
  limits?: readonly [number, number],
  bearer = false,
): Uint8Array {
  return encoder.encode(encodeRecordText(state, https, limits, bearer));
}

/** Serialises a session to the text its stored bytes are the UTF-8 of.
 * Object.fromEntries defines properties, it never assigns, so a
 * `__proto__` key is stored as plain data. */
export function encodeRecordText(
  state: SessionState,
  https: boolean,
  limits?: readonly [number, number],
  bearer = false,
): string {
  const record: Record<string, unknown> = {
    v: RECORD_VERSION,
    data: Object.fromEntries(state.data),
    created: state.created,
    seen: state.seen,
    https,
    user: state.user,
  };
  const { issued = state.created, life = null, auth = null } = state;
  if (issued !== state.created) record.t = issued;
  if (life !== null) record.l = life;
  // A login's time is the session's creation: stored only when later.
  if (auth !== null && auth !== state.created) record.a = auth;
  if (limits !== undefined) record.lim = limits;
  if (state.flash.size > 0) record.flash = Object.fromEntries(state.flash);
  if (state.csrf !== null) record.csrf = state.csrf;
  if (state.meta !== null) record.meta = state.meta;
  if (state.writes !== "") record.w = state.writes;
  // Absent for cookie sessions: records from before the bearer carrier.
  if (bearer) record.bearer = true;
  return JSON.stringify(record);
}

/** Whether `key` is one a record may hold. A switch of string compares:
 * checking a record's keys this way took under half the time of Set
 * lookups (~0.014 against 0.052 us on Bun, 0.013 against 0.03 on Deno). */
function isRecordKey(key: string): boolean {
  switch (key) {
    case "v":
    case "data":
    case "created":
    case "seen":
    case "https":
    case "user":
    case "flash":
    case "csrf":
    case "meta":
    case "w":
    case "bearer":
    case "t":
    case "l":
    case "lim":
    case "a":
      return true;
    default:
      return false;
  }
}

/** Parses stored bytes; `null` for anything that is not a well-formed
 * record (stored data is untrusted: any surprise means "no session"). */
export function decodeRecord(bytes: unknown): SessionRecord | null {
  const text = utf8Text(bytes);
  return text === null ? null : decodeRecordText(text);
}

/** {@link decodeRecord} of the text a store's own side hands tessera (a
 * JavaScript string: no bytes to check). */
export function decodeRecordText(text: string): SessionRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(parsed)) return null;
  const r = parsed as Record<string, unknown>;
  // for-in, not Object.keys(): no array. It also walks enumerable
  // properties an app added to Object.prototype: only own ones count.
  for (const key in r) {
    if (!isRecordKey(key) && Object.hasOwn(r, key)) return null;
  }
  if (
    r.v !== RECORD_VERSION || !isObject(r.data) ||
    !isTime(r.created) || !isTime(r.seen) ||
    typeof r.https !== "boolean" ||
    (r.user !== null && typeof r.user !== "string") ||
    (r.flash !== undefined && !isObject(r.flash)) ||
    (r.csrf !== undefined && typeof r.csrf !== "string") ||
    (r.meta !== undefined && !isObject(r.meta)) ||
    !isWrites(r.w) || (r.t !== undefined && !isTime(r.t)) ||
    (r.l !== undefined && !isTime(r.l)) ||
    (r.a !== undefined && !isTime(r.a)) || !isLimits(r.lim) ||
    (r.bearer !== undefined && r.bearer !== true)
  ) {
    return null;
  }
  return {
    data: toMap(r.data),
    flash: r.flash === undefined ? new Map() : toMap(r.flash),
    created: r.created,
    seen: r.seen,
    issued: (r.t as number | undefined) ?? r.created,
    life: (r.l as number | undefined) ?? null,
    auth: (r.a as number | undefined) ??
      (r.user === null ? null : r.created),
    limits: (r.lim as [number, number] | undefined) ?? null,
    https: r.https,
    bearer: r.bearer === true,
    user: r.user as string | null,
    csrf: (r.csrf as string | undefined) ?? null,
    meta: (r.meta as Record<string, unknown> | undefined) ?? null,
    writes: (r.w as string | undefined) ?? "",
  };
}

/** The own properties of a parsed object, as a Map: for-in, not
 * Object.keys(), so no array of keys is made on every read. */
function toMap(object: Record<string, unknown>): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const key in object) {
    if (Object.hasOwn(object, key)) map.set(key, object[key]);
  }
  return map;
}

/** Absent (no write yet) or whole ids; the next write trims the list to
 * {@link RECENT_WRITES}. */
function isWrites(writes: unknown): boolean {
  return writes === undefined ||
    (typeof writes === "string" && writes.length % WRITE_ID_LENGTH === 0);
}

function isLimits(limits: unknown): boolean {
  return limits === undefined ||
    (Array.isArray(limits) && limits.length === 2 && limits.every(isTime));
}

/** Whether a record has outlived its idle or absolute timeout at `now`,
 * or its own lifetime when it has one. */
export function isExpired(
  record: SessionRecord,
  now: number,
  idleTimeout: number,
  absoluteTimeout: number,
): boolean {
  const life = record.life ?? null;
  if (life !== null) return now - record.created >= life;
  return now - record.seen >= idleTimeout ||
    now - record.created >= absoluteTimeout;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
