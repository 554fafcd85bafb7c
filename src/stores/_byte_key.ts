// Store keys as bytes for a database column, so that any string (NUL, lone
// surrogates included) is a key, distinct keys stay distinct, bytewise order
// is key order, and "every key under a prefix" is one range of bytes.
//
// Each part: its code points in UTF-8 (a lone surrogate as its own 3-byte
// form, so it stays distinct from U+FFFD), with 0x00 escaped as 00 FF, then
// the terminator 00 01. A shorter part sorts before any longer one it is a
// prefix of (00 01 < 00 FF and < every other byte pair), and the keys under
// a prefix P are exactly those in (P, P with its last byte raised to 02).
// Parts compare by code point, which is JavaScript's string order for every
// string without characters beyond U+FFFF.
import type { StoreKey } from "../store.ts";

const HEX: string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** The bytes of `key`, as lowercase hex. */
export function keyHex(key: StoreKey): string {
  let out = "";
  for (const part of key) {
    for (let i = 0; i < part.length; i++) {
      let c = part.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < part.length) {
        const low = part.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
        }
      }
      if (c === 0) out += "00ff";
      else if (c < 0x80) out += HEX[c];
      else if (c < 0x800) out += HEX[0xc0 | c >> 6]! + HEX[0x80 | c & 63];
      else if (c < 0x10000) {
        out += HEX[0xe0 | c >> 12]! + HEX[0x80 | c >> 6 & 63] +
          HEX[0x80 | c & 63];
      } else {
        out += HEX[0xf0 | c >> 18]! + HEX[0x80 | c >> 12 & 63] +
          HEX[0x80 | c >> 6 & 63] + HEX[0x80 | c & 63];
      }
    }
    out += "0001";
  }
  return out;
}

/** The upper end (exclusive) of the byte range under a non-empty prefix. */
export function prefixEndHex(prefixHex: string): string {
  return `${prefixHex.slice(0, -2)}02`;
}

/** Decodes {@link keyHex}'s bytes back into the key's parts. */
export function decodeKey(bytes: Uint8Array): string[] {
  const parts: string[] = [];
  let part = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b === 0) {
      if (bytes[i + 1] === 1) {
        parts.push(part);
        part = "";
      } else part += "\0";
      i += 2;
      continue;
    }
    let c: number;
    if (b < 0x80) {
      c = b;
      i += 1;
    } else if (b < 0xe0) {
      c = (b & 31) << 6 | bytes[i + 1]! & 63;
      i += 2;
    } else if (b < 0xf0) {
      c = (b & 15) << 12 | (bytes[i + 1]! & 63) << 6 | bytes[i + 2]! & 63;
      i += 3;
    } else {
      c = (b & 7) << 18 | (bytes[i + 1]! & 63) << 12 |
        (bytes[i + 2]! & 63) << 6 | bytes[i + 3]! & 63;
      i += 4;
    }
    part += String.fromCodePoint(c);
  }
  return parts;
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** A `bytea` as the client returned it: bytes (a Buffer is a Uint8Array),
 * or PostgreSQL's text form `\x…`, for clients that do not decode it. */
export function fromBytea(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (typeof value === "string" && value.startsWith("\\x")) {
    const out = new Uint8Array((value.length - 2) / 2);
    for (let i = 0; i < out.length; i++) {
      out[i] = parseInt(value.slice(2 + 2 * i, 4 + 2 * i), 16);
    }
    return out;
  }
  throw new TypeError(
    `Expected a bytea value (bytes) from the PostgreSQL client, got ${typeof value}`,
  );
}
