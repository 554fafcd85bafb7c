// A forwarding record: what a renewed session leaves under its old id, so
// requests still carrying the old token (sent in parallel before the
// browser saw the new cookie) reach the same session for a short grace
// window instead of failing or starting a second one.
import { utf8Text } from "./_utf8.ts";

/** Where an old token leads, and until when. */
export interface Forward {
  /** The id of the session that replaced it. */
  readonly to: string;
  /** Until when the old token is honoured, ms since the epoch. */
  readonly until: number;
  /** The channel of the session. */
  readonly https: boolean;
}

const encoder = new TextEncoder();

/** The stored form of a forward; never a session record (no `data`). */
export function encodeForward(forward: Forward): Uint8Array {
  return encoder.encode(JSON.stringify({
    v: 1,
    fwd: forward.to,
    until: forward.until,
    https: forward.https,
  }));
}

/** Parses a stored forward; `null` for anything else. */
export function decodeForward(bytes: unknown): Forward | null {
  const text = utf8Text(bytes);
  return text === null ? null : decodeForwardText(text);
}

/** {@link decodeForward} of the text a store's own side hands tessera. */
export function decodeForwardText(text: string): Forward | null {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof r !== "object" || r === null) return null;
  const { v, fwd, until, https, ...rest } = r as Record<string, unknown>;
  if (
    v !== 1 || typeof fwd !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(fwd) ||
    typeof until !== "number" || !Number.isFinite(until) ||
    typeof https !== "boolean" || Object.keys(rest).length > 0
  ) return null;
  return { to: fwd, until, https };
}
