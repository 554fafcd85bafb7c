// Saves of one key from this process, one at a time, and the versions known
// to be past. When many requests race on one session, all but one of the
// saves that checked the same version are bound to fail: sent one after the
// other, the first moves the key on and the rest are answered "conflict"
// here, without a round trip, so the database's time goes to saves that can
// succeed. A versionstamp is never reused, so a version that a key has left
// can never pass a check again: answering "conflict" for it is exact.

/** Versions remembered per key; a racing burst checks one or two. */
const PAST_PER_KEY = 4;

/** Serialises the saves of each key and answers known-stale ones at once. */
export class SaveGate {
  #tails = new Map<string, Promise<void>>();
  #past = new Map<string, string[]>();
  #keys: number;

  /** @param keys How many keys' past versions to remember (oldest dropped). */
  constructor(keys: number) {
    this.#keys = keys;
  }

  /**
   * Runs `save` (a checked write of `key` over `version`) after the earlier
   * saves of `key` through this gate, or answers `null` without running it
   * when `version` is known to be past.
   */
  async run(
    key: string,
    version: string,
    save: () => Promise<string | null>,
  ): Promise<string | null> {
    const before = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => release = resolve);
    const tail = before === undefined ? mine : before.then(() => mine);
    this.#tails.set(key, tail);
    try {
      await before;
      if (this.#past.get(key)?.includes(version)) return null;
      const result = await save();
      // Saved or refused, the key is no longer at `version` (refused: it was
      // elsewhere, absent or expired, and stays so).
      this.#remember(key, version);
      return result;
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  #remember(key: string, version: string): void {
    const past = this.#past.get(key) ?? [];
    this.#past.delete(key); // re-inserted last: the most recently used
    past.push(version);
    if (past.length > PAST_PER_KEY) past.shift();
    this.#past.set(key, past);
    if (this.#past.size > this.#keys) {
      this.#past.delete(this.#past.keys().next().value!);
    }
  }
}
