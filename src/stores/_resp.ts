// Redis replies as JavaScript clients hand them over. Only the shapes
// redisStore asks for are accepted: arrays, strings, integers and null.
// RESP3 clients (Bun) may turn a nil into `false` or hand out bytes.

const decoder = new TextDecoder();

/** Whether a reply is Redis' nil (RESP2 null, RESP3 null or false). */
export function isNil(reply: unknown): boolean {
  return reply === null || reply === undefined || reply === false;
}

/** A bulk or simple string reply as a string. */
export function asString(reply: unknown, what: string): string {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return decoder.decode(reply);
  if (typeof reply === "number" || typeof reply === "bigint") {
    return String(reply);
  }
  throw unexpected(reply, what);
}

/** An array reply as an array (a RESP3 map arrives as an object or Map:
 * flattened to key, value, …). */
export function asArray(reply: unknown, what: string): unknown[] {
  if (Array.isArray(reply)) return reply;
  if (reply instanceof Map) return [...reply].flat();
  if (
    typeof reply === "object" && reply !== null &&
    !(reply instanceof Uint8Array)
  ) {
    return Object.entries(reply).flat();
  }
  throw unexpected(reply, what);
}

/** Whether an error is Redis' NOSCRIPT (the script is not cached there). */
export function isNoScript(error: unknown): boolean {
  const message = error instanceof Error
    ? error.message
    : typeof error === "string"
    ? error
    : "";
  return message.includes("NOSCRIPT");
}

function unexpected(reply: unknown, what: string): TypeError {
  const shown = typeof reply === "object"
    ? Object.prototype.toString.call(reply)
    : String(reply);
  return new TypeError(
    `redisStore: unexpected reply to ${what}: ${shown} (${typeof reply})`,
  );
}
