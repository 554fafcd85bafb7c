/**
 * Fills a Deno KV file with `count` tessera sessions, for the growth rows of
 * bench/http.ts (how a KV read and write cost grows with the sessions
 * stored). Bounded: at most 2,000,000 sessions, written in atomic batches.
 *
 *   deno run --allow-read --allow-write scripts/seed_kv.ts <file> <count>
 *
 * The records are tessera's own layout (`{ v: 1, data, created, seen, https,
 * user }` as UTF-8 JSON under `["tessera", "session", sha256(token)]`), and
 * the tokens are derived from their index ({@link seedToken}), so a load
 * generator can present the first few without the script printing them. A
 * file already holding `count` sessions seeded less than 12 hours ago (its
 * marker entry says so) is kept as it is: seeding 1,000,000 takes minutes.
 * Prints one JSON line: `{ count, seconds, reused }`.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The most sessions a run may write. */
export const MAX_SEEDED = 2_000_000;
/** Sessions per atomic operation (Deno KV allows 1,000 mutations). */
const BATCH = 500;
/** How long a seeded file is reused: well inside the records' 24 h life. */
const REUSE_MS = 12 * 3_600_000;
const LIFETIME_MS = 24 * 3_600_000;
const MARKER = ["tessera-seed", "marker"];

/** The session token of seeded session `i`: 32 bytes, unpadded base64url. */
export function seedToken(i: number): string {
  return createHash("sha256").update(`tessera-seed:${i}`).digest("base64url");
}

/** The store id tessera derives from a token (its SHA-256, base64url). */
function tokenId(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Seeds `path` with `count` sessions unless it already holds them.
 *
 * @param path The KV file.
 * @param count How many sessions.
 * @returns What was done and how long it took.
 */
export async function seed(
  path: string,
  count: number,
): Promise<{ count: number; seconds: number; reused: boolean }> {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SEEDED) {
    throw new RangeError(
      `count must be an integer from 1 to ${MAX_SEEDED}, got ${count}`,
    );
  }
  const started = performance.now();
  const kv = await Deno.openKv(path);
  try {
    const marker = await kv.get<string>(MARKER);
    if (typeof marker.value === "string") {
      const old = JSON.parse(marker.value);
      if (old.count === count && Date.now() - old.created < REUSE_MS) {
        return { count, seconds: 0, reused: true };
      }
    }
    const encoder = new TextEncoder();
    const now = Date.now();
    const value = encoder.encode(JSON.stringify({
      v: 1,
      data: { visits: 1, language: "en" },
      created: now,
      seen: now,
      https: false,
      user: null,
    }));
    for (let start = 0; start < count; start += BATCH) {
      const op = kv.atomic();
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        op.set(["tessera", "session", tokenId(seedToken(i))], value, {
          expireIn: LIFETIME_MS,
        });
      }
      const result = await op.commit();
      if (!result.ok) throw new Error(`batch at ${start} was not applied`);
    }
    await kv.set(MARKER, JSON.stringify({ count, created: now }));
    return {
      count,
      seconds: (performance.now() - started) / 1000,
      reused: false,
    };
  } finally {
    kv.close();
  }
}

if (import.meta.main) {
  const [path, countText] = Deno.args;
  if (path === undefined || countText === undefined) {
    console.error("usage: seed_kv.ts <kv-file> <count>");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await seed(path, Number(countText))));
}
