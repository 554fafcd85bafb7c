// Bounded retries with jittered, growing pauses, for store operations that
// the backend refused without applying them (a busy SQLite file, a
// PostgreSQL serialization failure): trying again is safe exactly because
// nothing happened.

/**
 * Runs `operation`, trying again while `retryable(error)` holds, at most
 * `attempts` times in all, pausing between tries for a random time of up to
 * a cap that doubles each try (from 10 ms to 200 ms), so that racing
 * callers spread apart.
 */
export async function retrying<T>(
  attempts: number,
  retryable: (error: unknown) => boolean,
  operation: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error;
      await retryPause(attempt);
    }
  }
}

/**
 * The pause before try `attempt + 1`: at random between half and all of a
 * cap that doubles each try (from 10 ms to 200 ms).
 */
export function retryPause(attempt: number): Promise<void> {
  const cap = Math.min(200, 5 * 2 ** attempt);
  return new Promise((resolve) =>
    setTimeout(resolve, cap / 2 + Math.random() * cap / 2)
  );
}
