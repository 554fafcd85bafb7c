// Redis killed and restarted mid-load, with AOF (appendfsync always): the
// requests during the outage answer 503 through storeTimeout instead of
// hanging, service resumes by itself once Redis is back, and no acknowledged
// increment is lost.
import assert from "node:assert/strict";
import { createClient } from "redis";
import {
  getSession,
  redisStore,
  SessionStoreError,
  withSession,
} from "../../mod.ts";
import { startRedis } from "../_redis.ts";
import { sleep } from "../_helpers.ts";
import { within } from "./_support.ts";

const CLIENTS = 16;
const STORE_TIMEOUT = 500;

Deno.test("Redis restart mid-load (AOF): 503s during the outage, none hangs, service resumes, no acknowledged write lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera-aof-" });
  const aof = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  let redis = await startRedis(aof);
  const port = redis.port;
  const r = createClient({
    url: redis.url,
    // Reconnect quickly and forever; tessera's storeTimeout bounds requests.
    socket: { reconnectStrategy: () => 50 },
  });
  r.on("error", () => {}); // reconnects are expected here
  await r.connect();
  try {
    const errors: unknown[] = [];
    const app = withSession((req) => {
      const session = getSession<{ n: number }>(req);
      if (new URL(req.url).pathname === "/inc") {
        session.update("n", (n = 0) => n + 1);
      }
      return new Response(String(session.get("n") ?? 0));
    }, {
      store: redisStore({ send: (c, a) => r.sendCommand([c, ...a]) }),
      storeTimeout: STORE_TIMEOUT,
      onError(error) {
        errors.push(error);
        return new Response("unavailable", { status: 503 });
      },
    });
    const first = await app(new Request("http://localhost/inc"));
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    let acked = 1;
    let refused = 0;
    let phase: "before" | "down" | "after" = "before";
    const during = { before: 0, down: 0, after: 0 };
    let stop = false;
    const clients = Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        // Bounded: the loop ends when the test says so, at most 2,000 rounds.
        for (let i = 0; i < 2_000 && !stop; i++) {
          const response = await app(
            new Request("http://localhost/inc", { headers: { cookie } }),
          );
          await response.body?.cancel();
          if (response.ok) {
            acked++;
            during[phase]++;
          } else refused++;
          if (!response.ok) await sleep(20);
        }
      }),
    );
    await sleep(500);
    await redis.kill(); // a crash: SIGKILL
    phase = "down";
    await sleep(4 * STORE_TIMEOUT);
    const refusedWhileDown = refused;
    redis = await startRedis(aof, port);
    phase = "after";
    // Service resumes by itself: wait (bounded) for increments to succeed.
    for (let i = 0; i < 100 && during.after < 50; i++) await sleep(100);
    stop = true;
    await within(30_000, "the clients (none may hang)", clients);

    assert.ok(during.before > 0, "increments succeeded before the crash");
    assert.ok(refusedWhileDown > 0, "requests during the outage were refused");
    assert.ok(
      errors.some((e) => e instanceof SessionStoreError),
      "refusals are store errors (503)",
    );
    assert.ok(during.after >= 50, `service resumed (${during.after} after)`);
    const final = Number(
      await (await app(
        new Request("http://localhost/", { headers: { cookie } }),
      ))
        .text(),
    );
    console.log(
      `  ${acked} acknowledged (${during.before} before, ${during.down} while down, ${during.after} after), ${refused} refused, final ${final}`,
    );
    assert.ok(
      final >= acked,
      `no acknowledged increment lost: ${final} ≥ ${acked}`,
    );
    assert.ok(
      final <= acked + refused,
      `none applied beyond the refused ones: ${final} ≤ ${acked} + ${refused}`,
    );
  } finally {
    r.destroy();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
