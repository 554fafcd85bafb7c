// A deadline for one store call: remote clients may retry forever (Deno's
// remote KV client does, denoland/deno#21211), and a request must not hang.
import { SessionStoreTimeoutError } from "./errors.ts";

/** `promise`, or a {@link SessionStoreTimeoutError} after `ms`. */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  call: "read" | "commit",
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new SessionStoreTimeoutError(call, ms)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
