// PostgreSQL crashing and coming back while requests run (the processes
// sharing one database are in multiprocess_test.ts). A 2xx answer is an
// acknowledgement: every acknowledged increment must be in the final count,
// and an unacknowledged one may be there only if its request failed while
// the database went away.
import assert from "node:assert/strict";
import { getSession, postgresStore, withSession } from "../../mod.ts";
import {
  type ClientKind,
  PG,
  POSTGRES_JS,
  startPostgres,
} from "../_postgres.ts";
import { sleep } from "../_helpers.ts";

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
