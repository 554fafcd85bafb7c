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

/** The store id of a token: its SHA-256, base64url. On Bun, its one-shot
 * native hash: node:crypto's createHash allocates a Hash object and makes
 * three native calls (~0.78 against ~0.2 µs per token, measured in
 * Bun 1.4). On Deno, for ASCII (tokens are), the allocation-free
 * JavaScript hash: createHash costs twice as much there (~1.6 against
 * ~0.8 µs). For anything else, node:crypto. All run synchronously, unlike
 * `crypto.subtle.digest`. */
export function tokenId(token: string): string {
  if (BUN_SHA256 !== undefined) return BUN_SHA256.hash(token, "base64url");
  return sha256Ascii(token) ??
    createHash("sha256").update(token).digest("base64url");
}

/** Bun's `Bun.SHA256` (it hashes a string's UTF-8, as createHash does). */
const BUN_SHA256 = (globalThis as {
  Bun?: { SHA256?: { hash(input: string, encoding: "base64url"): string } };
}).Bun?.SHA256;
