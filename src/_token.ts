// Session tokens: 32 CSPRNG bytes as base64url, stored only as their SHA-256.
import { createHash, randomBytes } from "node:crypto";
import { sha256Ascii } from "./_sha256.ts";

/** 32 bytes in base64url without padding: 42 free characters and a last one
 * whose two low bits are zero, so only the canonical encoding matches. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Characters in a token: 32 bytes in unpadded base64url. */
export const TOKEN_LENGTH = 43;

/** Whether `value` is a token tessera could have issued. */
export function isWellFormedToken(value: string): boolean {
  return value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value);
}

/** A new random token. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The store id of a token: its SHA-256, base64url. On Deno, for ASCII
 * (tokens are), the allocation-free JavaScript hash: node:crypto's
 * createHash costs twice as much there (~1.6 against ~0.8 µs per token).
 * On Bun, whose createHash is native and twice as fast as that JavaScript
 * (~0.38 against ~0.74 µs), and for anything else, node:crypto. Both run
 * synchronously, unlike `crypto.subtle.digest`. */
export function tokenId(token: string): string {
  return (NATIVE_FASTER ? undefined : sha256Ascii(token)) ??
    createHash("sha256").update(token).digest("base64url");
}

/** Whether node:crypto hashes a token faster than the JavaScript: Bun. */
const NATIVE_FASTER = typeof (globalThis as { Bun?: unknown }).Bun !==
  "undefined";
