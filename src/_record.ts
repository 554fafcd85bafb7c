// The stored form of a session: one JSON document as UTF-8 bytes, so Deno
// and Bun (through @deno/kv) read the same database.

/** Version of the record layout; a record of another version is not loaded. */
export const RECORD_VERSION = 1;

/** A session as stored. */
export interface SessionRecord {
  /** Layout version, {@link RECORD_VERSION}. */
  readonly v: number;
  /** The session's values. */
  readonly data: Record<string, unknown>;
  /** Creation time, ms since the epoch; the absolute timeout counts from it. */
  readonly created: number;
  /** Last time a request was seen, ms; the idle timeout counts from it. */
  readonly seen: number;
  /** Whether the session belongs to the HTTPS channel. */
  readonly https: boolean;
  /** The bound user id, or `null`. */
  readonly user: string | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Serialises a record. `data` is a Map so that keys such as `__proto__`
 * stay plain data (Object.fromEntries defines, it never assigns). */
export function encodeRecord(
  data: ReadonlyMap<string, unknown>,
  created: number,
  seen: number,
  https: boolean,
  user: string | null,
): Uint8Array {
  return encoder.encode(JSON.stringify({
    v: RECORD_VERSION,
    data: Object.fromEntries(data),
    created,
    seen,
    https,
    user,
  }));
}

/** Parses stored bytes; `null` for anything that is not a well-formed record. */
export function decodeRecord(bytes: unknown): SessionRecord | null {
  if (!(bytes instanceof Uint8Array)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return null;
  }
  const r = parsed as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!RECORD_KEYS.has(key)) return null;
  }
  const data = r.data;
  if (
    r.v !== RECORD_VERSION ||
    typeof data !== "object" || data === null || Array.isArray(data) ||
    !isTime(r.created) || !isTime(r.seen) ||
    typeof r.https !== "boolean" ||
    (r.user !== null && typeof r.user !== "string")
  ) {
    return null;
  }
  return r as unknown as SessionRecord;
}

const RECORD_KEYS = new Set(["v", "data", "created", "seen", "https", "user"]);

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** The record's values as a Map (own keys only, `__proto__` included). */
export function dataMap(record: SessionRecord): Map<string, unknown> {
  return new Map(Object.entries(record.data));
}
