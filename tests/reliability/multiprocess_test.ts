// Several server processes on one Deno KV file: no acknowledged increment is
// lost. A 503 is not an acknowledgement, so the final count must equal the
// number of 2xx answers exactly.
import assert from "node:assert/strict";
import { startCluster } from "./_cluster.ts";

const PROCESSES = 3;
const CLIENTS = 32;
const ROUNDS = 8;

Deno.test(`multi-process: ${PROCESSES} servers on one KV file, ${CLIENTS} clients incrementing, final count = 2xx answers`, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tessera-mp-" });
  const cluster = await startCluster(PROCESSES, `${dir}/sessions.db`);
  try {
    const { urls } = cluster;
    const first = await fetch(`${urls[0]}/inc`);
    assert.equal(first.status, 200, await first.text());
    const cookie = first.headers.getSetCookie()[0]!.split(";")[0]!;
    let acked = 1;
    const refused: Record<number, number> = {};
    const deadline = AbortSignal.timeout(30_000);
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let round = 0; round < ROUNDS; round++) {
          const url = urls[(client + round) % urls.length]!;
          const response = await fetch(`${url}/inc`, {
            headers: { cookie },
            signal: deadline,
          });
          await response.body?.cancel();
          if (response.ok) acked++;
          else refused[response.status] = (refused[response.status] ?? 0) + 1;
        }
      }),
    );
    const counts = await Promise.all(urls.map(async (url) => {
      const response = await fetch(`${url}/get`, { headers: { cookie } });
      return ((await response.json()) as { n?: number }).n;
    }));
    const stats = await cluster.stats();
    const total = 1 + CLIENTS * ROUNDS;
    console.log(
      `  ${total} increments over ${PROCESSES} processes: ${acked} acknowledged, ` +
        `refused ${JSON.stringify(refused)}, final ${counts[0]}, ` +
        `conflicts retried ${stats.reduce((n, s) => n + s.conflicts, 0)}, ` +
        `server failures ${JSON.stringify(stats.map((s) => s.failures))}`,
    );
    await t.step(
      "final count = 2xx answers (no acknowledged increment lost, none applied unacknowledged)",
      () => {
        for (const count of counts) assert.equal(count, acked);
      },
    );
    await t.step(
      "most increments are acknowledged (busy commits are retried)",
      () => {
        assert.ok(acked >= total / 2, `${acked}/${total} acknowledged`);
      },
    );
  } finally {
    await cluster.close();
    await Deno.remove(dir, { recursive: true });
  }
});
