/**
 * How `listSessions` and `revokeUserSessions` grow with one user's sessions:
 * for 10, 100 and 1,000 sessions of one user (among 1,000 sessions of other
 * users), on memoryStore and on a Deno KV file. bench/http.ts runs it and
 * puts the table in bench/RESULTS.md.
 *
 *   deno run --allow-read --allow-write bench/accounts_growth.ts <dir>
 *
 * Sessions are made by logging in through `withSession`, so the index
 * entries are tessera's own. Each figure is the median of 5 calls
 * (`listSessions`) or of 3 fresh sets of sessions (`revokeUserSessions`,
 * which ends them). Prints one JSON line.
 *
 * @module
 */
import { median } from "./_median.ts";
import {
  getSession,
  kvStore,
  listSessions,
  memoryStore,
  revokeUserSessions,
  type SessionStore,
  withSession,
} from "../mod.ts";

const SIZES = [10, 100, 1_000];
const OTHERS = 1_000;

async function logIn(store: SessionStore, user: string, n: number) {
  const app = withSession(async (req) => {
    await getSession(req).login(user, { device: "bench" });
    return new Response("ok");
  }, { store });
  for (let i = 0; i < n; i++) {
    await (await app(new Request("http://127.0.0.1/"))).body?.cancel();
  }
}

async function measure(store: SessionStore) {
  await logIn(store, "others", OTHERS);
  const out = [];
  for (const n of SIZES) {
    const list: number[] = [];
    const revoke: number[] = [];
    for (let round = 0; round < 3; round++) {
      const user = `user-${n}-${round}`;
      await logIn(store, user, n);
      if (round === 0) {
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          const found = await listSessions(store, user);
          list.push(performance.now() - t);
          if (found.length !== n) {
            throw new Error(`listed ${found.length} of ${n}`);
          }
        }
      }
      const t = performance.now();
      const ended = await revokeUserSessions(store, user);
      revoke.push(performance.now() - t);
      if (ended !== n) throw new Error(`revoked ${ended} of ${n}`);
    }
    out.push({ sessions: n, listMs: median(list), revokeMs: median(revoke) });
  }
  return out;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? await Deno.makeTempDir();
  const kv = await Deno.openKv(`${dir}/accounts.db`);
  try {
    console.log(JSON.stringify({
      memory: await measure(memoryStore()),
      kv: await measure(kvStore(kv)),
    }));
  } finally {
    kv.close();
  }
}
