// Stored bytes as text, strictly: a record or forward whose bytes are not
// UTF-8 is no record, never one with U+FFFD in place of what was there.

// The non-fatal decoder is the fast one (Deno's fatal decoder takes a slow
// path, ~1.6 µs per record); it turns invalid bytes into U+FFFD, so only a
// text holding U+FFFD is decoded again strictly to tell the two apart.
const decoder = new TextDecoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** The text `bytes` are the UTF-8 of; `null` for anything else. */
export function utf8Text(bytes: unknown): string | null {
  if (!(bytes instanceof Uint8Array)) return null;
  const text = decoder.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}
