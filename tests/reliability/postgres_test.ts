// PostgreSQL under load, on a real server: three server processes sharing
// one database (one of them SIGKILLed mid-load), and the database itself
// crashing and coming back while requests run. A 2xx answer is an
// acknowledgement: every acknowledged increment must be in the final count,
// and an unacknowledged one may be there only if its request never got a
// clear answer or failed while the database went away.
import assert from "node:assert/strict";
import { getSession, postgresStore, withSession } from "../../mod.ts";
import {
  type ClientKind,
  PG,
  POSTGRES_JS,
  sharedPostgres,
  startPostgres,
} from "../_postgres.ts";
import { startCluster } from "./_cluster.ts";
import { sleep } from "../_helpers.ts";

const PROCESSES = 3;
const CLIENTS = 32;

/** A migrated table on this file's server, for the server processes. */
async function migratedTable(name: string): Promise<string> {
  const server = await sharedPostgres();
  const { client, end } = PG.connect(server.url, 1);
  try {
    await postgresStore(client, { table: name }).migrate();
  } finally {
    await end();
  }
  const url = new URL(server.url);
  url.searchParams.set("table", name);
  return url.href;
}

for (const kill of [false, true]) {
  const title = kill
    ? `multi-process on PostgreSQL: ${PROCESSES} servers × ${CLIENTS} clients on one session, one server SIGKILLed mid-load: no acknowledged increment lost`
    : `multi-process on PostgreSQL: ${PROCESSES} servers × ${CLIENTS} clients on one session: final count = 2xx answers`;
  Deno.test(title, async () => {
    const target = await migratedTable(`mp ${kill ? "kill" : "all"}`);
    const cluster = await startCluster(PROCESSES, target);
    try {
      const { urls } = cluster;
      const first = await fetch(`${urls[0]}/inc`);
      assert.equal(first.status, 200, await first.text());
      const cookie = first.headers.getSetCookie()[0]!.split(";")[0]!;
      let acked = 1;
      let unanswered = 0;
      const refused: Record<number, number> = {};
      const rounds = kill ? 12 : 8;
      const deadline = AbortSignal.timeout(60_000);
      let sent = 0;
      const killed = kill ? 2 : -1;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let round = 0; round < rounds; round++) {
            // Mid-load: once a third of the requests went out, server 2 dies.
            if (kill && ++sent === Math.floor(CLIENTS * rounds / 3)) {
              cluster.kill(killed);
            }
            const url = urls[(client + round) % urls.length]!;
            try {
              const response = await fetch(`${url}/inc`, {
                headers: { cookie },
                signal: deadline,
              });
              await response.body?.cancel();
              if (response.ok) acked++;
              else {
                refused[response.status] = (refused[response.status] ?? 0) +
                  1;
              }
            } catch (error) {
              // Only the killed server may leave a request without an answer
              // (and that one may or may not have been applied).
              if (url !== urls[killed] || deadline.aborted) throw error;
              unanswered++;
            }
          }
        }),
      );
      const live = urls.filter((_, i) => i !== killed);
      const counts = await Promise.all(live.map(async (url) => {
        const response = await fetch(`${url}/get`, { headers: { cookie } });
        return ((await response.json()) as { n?: number }).n;
      }));
      const failures = await Promise.all(
        live.map(async (url) =>
          (await (await fetch(`${url}/stats`)).json()).failures
        ),
      );
      console.log(
        `  ${1 + CLIENTS * rounds} increments over ${PROCESSES} processes: ` +
          `${acked} acknowledged, ${unanswered} unanswered (killed server), ` +
          `refused ${JSON.stringify(refused)}, final ${counts[0]}, ` +
          `server failures ${JSON.stringify(failures)}`,
      );
      for (const count of counts) {
        assert.ok(
          count! >= acked,
          `final ${count} < ${acked} acknowledged: an acknowledged increment was lost`,
        );
        assert.ok(
          count! <= acked + unanswered,
          `final ${count} > ${acked} acknowledged + ${unanswered} unanswered: an increment was applied twice or unasked`,
        );
      }
      if (!kill) assert.equal(unanswered, 0);
      assert.ok(
        acked >= (CLIENTS * rounds) / 2,
        `most increments are acknowledged (${acked})`,
      );
    } finally {
      await cluster.close();
    }
  });
}

for (const kind of [PG, POSTGRES_JS] as ClientKind[]) {
  Deno.test(`PostgreSQL crashing and restarting mid-load (${kind.name}): requests fail closed with 503, service resumes, nothing acknowledged is lost`, async () => {
    // A server of its own: this test takes it down.
    const server = await startPostgres();
    const { client, end } = kind.connect(server.url, 10);
    try {
      const store = postgresStore(client, { retryAttempts: 2 });
      await store.migrate();
      const app = withSession((req) => {
        const n = getSession<{ n: number }>(req).update("n", (n = 0) => n + 1);
        return new Response(String(n));
      }, {
        store,
        onError: () => new Response("unavailable", { status: 503 }),
      });
      const inc = (cookie?: string) =>
        app(
          new Request("http://localhost/inc", {
            headers: cookie === undefined ? {} : { cookie },
          }),
        );
      const first = await inc();
      const cookie = first.headers.getSetCookie()[0]!.split(";")[0]!;
      let acked = 1;
      const statuses = new Map<number, number>();
      let phase: "before" | "down" | "after" = "before";
      const okAfter = { before: 0, down: 0, after: 0 };
      let stop = false;
      const clients = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const started = Date.now();
          const response = await inc(cookie);
          await response.body?.cancel();
          assert.ok(
            Date.now() - started < 20_000,
            "no request hangs while the database is away",
          );
          statuses.set(
            response.status,
            (statuses.get(response.status) ?? 0) + 1,
          );
          if (response.status === 200) {
            acked++;
            okAfter[phase]++;
          } else {
            assert.equal(response.status, 503, "fails closed through onError");
            await sleep(20);
          }
        }
      });
      const driving = (async () => {
        await sleep(500);
        phase = "down";
        const t0 = Date.now();
        await server.crash();
        await sleep(1_000);
        await server.start();
        phase = "after";
        console.log(`  down for ${Date.now() - t0} ms`);
        // Pools notice the new server on their own; give them a moment, then
        // wait for answers again.
        const until = Date.now() + 20_000;
        while (okAfter.after < 20 && Date.now() < until) await sleep(100);
        console.log(`  20 answers again after ${Date.now() - t0} ms`);
        stop = true;
      })();
      await Promise.all([driving, ...clients]);
      const final = await inc(cookie);
      assert.equal(final.status, 200, "service has resumed");
      const count = Number(await final.text()) - 1;
      const refused = statuses.get(503) ?? 0;
      console.log(
        `  ${acked} acknowledged (${okAfter.before} before the crash, ${okAfter.after} after), ` +
          `${refused} answered 503, final count ${count}`,
      );
      assert.ok(refused > 0, "requests during the outage were refused");
      assert.ok(
        okAfter.after >= 20,
        "requests succeed again after the restart",
      );
      assert.ok(count >= acked, `final ${count} < ${acked} acknowledged`);
      assert.ok(
        count <= acked + refused,
        `final ${count} > ${acked} acknowledged + ${refused} refused`,
      );
    } finally {
      await end().catch(() => {});
      await server.close();
    }
  });
}
