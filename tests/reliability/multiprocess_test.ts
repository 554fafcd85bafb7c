// Several server processes on one store (a Deno KV file, one Redis, or one
// PostgreSQL table): no
// acknowledged increment is lost. A 503 is not an acknowledgement, so the
// final count must equal the number of 2xx answers exactly; with a process
// killed mid-load, requests it held may have been applied without an answer,
// so the count lies between the 2xx answers and those plus the requests
// that got no answer at all.
import assert from "node:assert/strict";
import { postgresTableUrl } from "../_postgres.ts";
import { startRedis } from "../_redis.ts";
import { type Cluster, startCluster } from "./_cluster.ts";

const PROCESSES = 3;
const CLIENTS = 32;
const ROUNDS = 8;

interface Outcome {
  acked: number;
  /** Requests that got no response (their process died). */
  unanswered: number;
  refused: Record<number, number>;
  /** The final count, as each surviving process reads it. */
  counts: (number | undefined)[];
}

/** Increments one session from CLIENTS clients spread over the processes;
 * with `kill`, process 1 is killed once a quarter of the rounds are done. */
async function hammer(cluster: Cluster, kill: boolean): Promise<Outcome> {
  const { urls } = cluster;
  const first = await fetch(`${urls[0]}/inc`);
  assert.equal(first.status, 200, await first.text());
  const cookie = first.headers.getSetCookie()[0]!.split(";")[0]!;
  let acked = 1;
  let unanswered = 0;
  let done = 0;
  let killed = false;
  const refused: Record<number, number> = {};
  const deadline = AbortSignal.timeout(60_000);
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let round = 0; round < ROUNDS; round++) {
        if (kill && !killed && ++done >= CLIENTS * ROUNDS / 4) {
          killed = true;
          cluster.kill(1);
        }
        // Once process 1 is dead, clients go to the others.
        const live = killed ? urls.filter((_, i) => i !== 1) : urls;
        const url = live[(client + round) % live.length]!;
        try {
          const response = await fetch(`${url}/inc`, {
            headers: { cookie },
            signal: deadline,
          });
          await response.body?.cancel();
          if (response.ok) acked++;
          else refused[response.status] = (refused[response.status] ?? 0) + 1;
        } catch (error) {
          if (deadline.aborted) throw error;
          unanswered++; // the process died with the request in flight
        }
      }
    }),
  );
  const counts = await Promise.all(
    urls.filter((_, i) => !(kill && i === 1)).map(async (url) => {
      const response = await fetch(`${url}/get`, { headers: { cookie } });
      return ((await response.json()) as { n?: number }).n;
    }),
  );
  return { acked, unanswered, refused, counts };
}

for (
  const kind of [
    { name: "one KV file", redis: false, postgres: false },
    { name: "one Redis", redis: true, postgres: false },
    { name: "one PostgreSQL table", redis: false, postgres: true },
  ]
) {
  for (const kill of kind.redis || kind.postgres ? [false, true] : [false]) {
    Deno.test(
      `multi-process: ${PROCESSES} servers on ${kind.name}, ${CLIENTS} clients incrementing${
        kill ? ", one server SIGKILLed mid-load" : ""
      }, final count = 2xx answers`,
      async (t) => {
        const dir = await Deno.makeTempDir({ prefix: "tessera-mp-" });
        const redis = kind.redis ? await startRedis() : undefined;
        try {
          const cluster = await startCluster(
            PROCESSES,
            redis?.url ??
              (kind.postgres
                ? await postgresTableUrl(`mp ${kill}`)
                : `${dir}/sessions.db`),
          );
          try {
            const { acked, unanswered, refused, counts } = await hammer(
              cluster,
              kill,
            );
            const total = 1 + CLIENTS * ROUNDS;
            console.log(
              `  ${total} increments over ${PROCESSES} processes: ${acked} acknowledged, ` +
                `${unanswered} unanswered, refused ${
                  JSON.stringify(refused)
                }, final ${counts[0]}`,
            );
            if (!kill) {
              await t.step(
                "final count = 2xx answers (no acknowledged increment lost, none applied unacknowledged)",
                () => {
                  for (const count of counts) assert.equal(count, acked);
                },
              );
            } else {
              await t.step(
                "no acknowledged increment lost, none counted twice: 2xx ≤ final ≤ 2xx + unanswered",
                () => {
                  for (const count of counts) {
                    assert.ok(
                      count !== undefined && count >= acked &&
                        count <= acked + unanswered,
                      `final ${count}, ${acked} acknowledged, ${unanswered} unanswered`,
                    );
                  }
                },
              );
            }
            await t.step(
              "most increments are acknowledged (busy commits are retried)",
              () => {
                assert.ok(acked >= total / 2, `${acked}/${total} acknowledged`);
              },
            );
          } finally {
            await cluster.close();
          }
        } finally {
          await redis?.stop();
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  }
}
