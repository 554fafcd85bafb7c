/**
 * The errors that callers of tessera are expected to catch.
 *
 * Misuse (a bad option, a non-JSON value) throws a plain `TypeError` or
 * `RangeError` instead.
 *
 * @module
 */

/**
 * `session.require(key)` found no value under `key`.
 *
 * @example Turning a missing value into a redirect
 * ```ts
 * import { MissingSessionValueError } from "@tessera/session";
 *
 * try {
 *   throw new MissingSessionValueError("cart");
 * } catch (error) {
 *   if (error instanceof MissingSessionValueError) console.log(error.key); // "cart"
 * }
 * ```
 */
export class MissingSessionValueError extends Error {
  /** The key that was missing. */
  readonly key: string;
  /**
   * Creates the error.
   *
   * @param key The key that was missing.
   */
  constructor(key: string) {
    super(`Session has no value for "${key}"`);
    this.name = "MissingSessionValueError";
    this.key = key;
  }
}

/**
 * The session store failed: a read or write threw, or a save could not be
 * completed. The request is answered through `onError` (503 by default),
 * never with an empty session or a false "saved".
 *
 * @example Telling store failures apart in `onError`
 * ```ts
 * import { SessionStoreError, withSession } from "@tessera/session";
 *
 * const handler = withSession(() => new Response("ok"), {
 *   store: (await import("@tessera/session")).memoryStore(),
 *   onError(error) {
 *     const status = error instanceof SessionStoreError ? 503 : 500;
 *     return new Response("try again", { status });
 *   },
 * });
 * console.log(typeof handler); // "function"
 * ```
 */
export class SessionStoreError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The underlying error, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SessionStoreError";
  }
}

/**
 * A save kept conflicting with concurrent writes to the same session and ran
 * out of attempts. Nothing of this request was saved.
 *
 * @example Checking the number of attempts
 * ```ts
 * import { SessionConflictError } from "@tessera/session";
 *
 * const error = new SessionConflictError(16);
 * console.log(error.attempts); // 16
 * ```
 */
export class SessionConflictError extends SessionStoreError {
  /** How many times the save was tried. */
  readonly attempts: number;
  /**
   * Creates the error.
   *
   * @param attempts How many times the save was tried.
   */
  constructor(attempts: number) {
    super(
      `Session save conflicted with concurrent requests ${attempts} times; nothing was saved`,
    );
    this.name = "SessionConflictError";
    this.attempts = attempts;
  }
}

/**
 * The session's stored record would exceed the store's value limit. The
 * previously stored data is left as it was.
 *
 * @example Reading the sizes
 * ```ts
 * import { SessionTooLargeError } from "@tessera/session";
 *
 * const error = new SessionTooLargeError(70_000, 65_536);
 * console.log(error.message);
 * // "Session is 70000 bytes, over the store's limit of 65536 bytes"
 * ```
 */
export class SessionTooLargeError extends SessionStoreError {
  /** The size the record would have had, in bytes. */
  readonly size: number;
  /** The store's limit, in bytes. */
  readonly limit: number;
  /**
   * Creates the error.
   *
   * @param size The size the record would have had, in bytes.
   * @param limit The store's limit, in bytes.
   */
  constructor(size: number, limit: number) {
    super(`Session is ${size} bytes, over the store's limit of ${limit} bytes`);
    this.name = "SessionTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A store call did not answer within `storeTimeout`. The request fails
 * closed (503 through `onError`); a commit that timed out may still land
 * later, so the client is told "not saved", never a false "saved".
 *
 * @example Telling a slow store apart in `onError`
 * ```ts
 * import { SessionStoreTimeoutError } from "@tessera/session";
 *
 * const error = new SessionStoreTimeoutError("read", 5_000);
 * console.log(error.message); // "The session store did not answer a read within 5000 ms"
 * ```
 */
export class SessionStoreTimeoutError extends SessionStoreError {
  /** The `storeTimeout` that ran out, in milliseconds. */
  readonly timeout: number;
  /**
   * Creates the error.
   *
   * @param call What the store was asked: `"read"` or `"commit"`.
   * @param timeout The `storeTimeout` that ran out, in milliseconds.
   */
  constructor(call: string, timeout: number) {
    super(`The session store did not answer a ${call} within ${timeout} ms`);
    this.name = "SessionStoreTimeoutError";
    this.timeout = timeout;
  }
}
