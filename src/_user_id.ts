// What a user id may be: it becomes part of store keys (Deno KV keys are at
// most 2 KiB, with tessera's prefix and the session id beside it).

/** The longest user id, in UTF-8 bytes. */
export const MAX_USER_ID_BYTES = 1024;

const encoder = new TextEncoder();

/**
 * Throws unless `userId` is a non-empty string of at most
 * {@link MAX_USER_ID_BYTES} bytes; `where` names the caller in the message.
 */
export function checkUserId(
  userId: unknown,
  where: string,
): asserts userId is string {
  if (typeof userId !== "string" || userId === "") {
    throw new TypeError(
      `${where} needs a non-empty string user id, got ${
        JSON.stringify(userId) ?? String(userId)
      }`,
    );
  }
  // Cheap first: a string of n code units has at most 3n UTF-8 bytes.
  if (userId.length * 3 <= MAX_USER_ID_BYTES) return;
  const bytes = encoder.encode(userId).byteLength;
  if (bytes > MAX_USER_ID_BYTES) {
    throw new RangeError(
      `${where} was given a user id of ${bytes} bytes (UTF-8); at most ${MAX_USER_ID_BYTES} are allowed, since it becomes part of store keys (Deno KV keys are at most 2 KiB): use a shorter id, such as a database key`,
    );
  }
}
