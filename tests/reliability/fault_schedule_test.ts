// A seeded fault schedule on one Redis (Jepsen-style, bounded in time):
// three app instances, each with its own client, whose store calls are
// randomly answered falsely (applied, then reported as a conflict or an
// error), or stall past storeTimeout; a Redis crash and restart (AOF) in the
// middle; interleaved with increments, logins, logouts and revoke-alls from
// several users with several devices each. Afterwards the invariants:
//
// - every acknowledged increment is present and applied once (a session's
//   count is at least its 2xx increments and at most those plus the
//   increments that got no 2xx);
// - no logged-out or revoked session is usable;
// - every live logged-in session is in its user's index.
//
// The seed is printed; TESSERA_FAULT_SEED=<seed> reruns the same schedule
// (the same actions and faults; the interleaving follows real time).
// App-process SIGKILLs are covered by multiprocess_test.ts.
import assert from "node:assert/strict";
import { createClient } from "redis";
import {
  getSession,
  listSessions,
  redisStore,
  revokeUserSessions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { sha256 } from "../conformance/_util.ts";
import { sleep } from "../_helpers.ts";
import { startRedis } from "../_redis.ts";
import { within } from "./_support.ts";

const USERS = 4;
const DEVICES = 3;
const STEPS = 25;
const STORE_TIMEOUT = 400;

/** mulberry32: a small seeded PRNG, so a seed names one schedule. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A real store whose calls, by the schedule's dice, answer falsely or
 * stall; the real call always happens. */
function scheduled(inner: SessionStore, random: () => number): SessionStore {
  const stall = <T>(call: Promise<T>): Promise<T> => {
    // A call that fails while held (Redis restarting) is not an unhandled
    // rejection: its failure still reaches the caller after the stall.
    call.catch(() => {});
    return sleep(STORE_TIMEOUT * 1.5).then(() => call);
  };
  return {
    maxValueBytes: inner.maxValueBytes,
    get(key) {
      return random() < 0.03 ? stall(inner.get(key)) : inner.get(key);
    },
    async commit(change) {
      const dice = random();
      if (dice < 0.03) return await stall(inner.commit(change));
      const result = await inner.commit(change);
      if (result === null) return null;
      if (dice < 0.10) return null; // applied, reply "lost": a conflict
      if (dice < 0.15) throw new Error("reply lost (schedule)");
      return result;
    },
    list: (prefix) => inner.list(prefix),
  };
}

interface Device {
  token: string | undefined;
  /** Whether its session is logged in (after a refused login: maybe). */
  user?: "yes" | "no" | "maybe";
}

Deno.test("fault schedule on one Redis: acknowledged writes applied once, ended sessions dead, indexes complete", async () => {
  const seed = Number(
    Deno.env.get("TESSERA_FAULT_SEED") ?? Math.floor(Math.random() * 2 ** 31),
  );
  console.log(`  seed ${seed} (rerun: TESSERA_FAULT_SEED=${seed})`);
  const random = prng(seed);
  const dir = await Deno.makeTempDir({ prefix: "tessera-faults-" });
  const aof = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  let redis = await startRedis(aof);
  const port = redis.port;
  const clients = Array.from({ length: 3 }, () => {
    const r = createClient({
      url: redis.url,
      socket: { reconnectStrategy: () => 50 },
    });
    r.on("error", () => {}); // reconnects during the restart are expected
    return r;
  });
  try {
    await Promise.all(clients.map((r) => r.connect()));
    const stores = clients.map((r) =>
      redisStore({ send: (c, a) => r.sendCommand([c, ...a]) })
    );
    const apps = stores.map((store) =>
      withSession(async (req) => {
        const session = getSession<{ n: number }>(req);
        const url = new URL(req.url);
        switch (url.pathname) {
          case "/inc":
            session.update("n", (n = 0) => n + 1);
            break;
          case "/login":
            await session.login(url.searchParams.get("u")!);
            break;
          case "/logout":
            await session.logout();
            break;
        }
        return Response.json({
          n: session.get("n") ?? 0,
          user: session.userId,
        });
      }, {
        store: scheduled(store, random),
        storeTimeout: STORE_TIMEOUT,
        persistentFieldsOnLogout: [],
        onError: () => new Response("unavailable", { status: 503 }),
      })
    );
    /** Through a random app instance, as a load balancer would. */
    const send = async (device: Device, path: string) => {
      const app = apps[Math.floor(random() * apps.length)]!;
      const headers: Record<string, string> = device.token
        ? { cookie: `session=${device.token}` }
        : {};
      const response = await app(
        new Request(`http://localhost${path}`, { headers }),
      );
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(";");
        const value = pair!.slice(pair!.indexOf("=") + 1);
        device.token = line.includes("Max-Age=0") ? undefined : value;
      }
      return response;
    };

    const acked = new Map<string, number>();
    const unsure = new Map<string, number>();
    const ended = new Set<string>();
    /** Tokens a refused login, logout or revoke may have ended anyway. */
    const maybeEnded = new Set<string>();
    const count = (map: Map<string, number>, token: string) =>
      map.set(token, (map.get(token) ?? 0) + 1);
    const users = Array.from(
      { length: USERS },
      () =>
        Array.from({ length: DEVICES }, (): Device => ({ token: undefined })),
    );
    let restarted = false;
    const restart = async () => {
      restarted = true;
      await redis.kill();
      await sleep(2 * STORE_TIMEOUT);
      redis = await startRedis(aof, port);
    };

    await within(
      120_000,
      "the schedule",
      Promise.all(users.map(async (devices, u) => {
        const user = `user-${u}`;
        for (let step = 0; step < STEPS; step++) {
          if (u === 0 && step === Math.floor(STEPS / 2) && !restarted) {
            await restart();
          }
          const dice = random();
          const device = devices[Math.floor(random() * DEVICES)]!;
          if (dice < 0.6) {
            // A burst of increments on one session, from its device twice.
            if (device.token === undefined) {
              const response = await send(device, "/inc");
              await response.body?.cancel();
              if (!response.ok || device.token === undefined) continue;
              count(acked, device.token); // the create's own increment
            }
            const token = device.token;
            const results = await Promise.all(
              [0, 1, 2].map(() => send({ token }, "/inc")),
            );
            for (const response of results) {
              count(response.ok ? acked : unsure, token);
              await response.body?.cancel();
            }
          } else if (dice < 0.8) {
            const before = device.token;
            const response = await send(device, `/login?u=${user}`);
            await response.body?.cancel();
            if (before !== undefined) {
              (response.ok ? ended : maybeEnded).add(before);
            }
            device.user = response.ok ? "yes" : "maybe";
          } else if (dice < 0.9) {
            const before = device.token;
            const response = await send(device, "/logout");
            await response.body?.cancel();
            if (before !== undefined) {
              (response.ok ? ended : maybeEnded).add(before);
            }
            device.user = response.ok ? "no" : "maybe";
          } else {
            // Sign out everywhere: this user's devices are idle meanwhile.
            let done = true;
            try {
              await revokeUserSessions(stores[0]!, user);
            } catch {
              done = false; // Redis down: nothing was promised
            }
            // Only logged-in sessions are the user's to revoke.
            for (const d of devices) {
              if (d.token === undefined || (d.user ?? "no") === "no") continue;
              (done && d.user === "yes" ? ended : maybeEnded).add(d.token);
              d.token = undefined; // a revoked browser starts afresh
              d.user = "no";
            }
          }
        }
      })),
    );
    assert.ok(restarted, "the schedule restarted Redis");

    // The invariants, read through a clean store.
    const store = stores[1]!;
    let checked = 0;
    for (const [token, n] of acked) {
      if (ended.has(token)) continue;
      const entry = await store.get(["session", await sha256(token)]);
      if (entry === null && maybeEnded.has(token)) continue;
      assert.notEqual(entry, null, `seed ${seed}: a live session was lost`);
      const stored =
        JSON.parse(new TextDecoder().decode(entry!.value)).data.n ??
          0;
      const extra = unsure.get(token) ?? 0;
      assert.ok(
        stored >= n && stored <= n + extra,
        `seed ${seed}: session with ${n} acknowledged (+${extra} unsure) increments holds ${stored}`,
      );
      checked++;
    }
    for (const token of ended) {
      const entry = await store.get(["session", await sha256(token)]);
      assert.equal(entry, null, `seed ${seed}: an ended session is gone`);
    }
    for (const [u, devices] of users.entries()) {
      const listed = new Set(
        (await listSessions(store, `user-${u}`)).map((s) => s.id),
      );
      for (const device of devices) {
        if (device.token === undefined || ended.has(device.token)) continue;
        const entry = await store.get(["session", await sha256(device.token)]);
        const record = entry &&
          JSON.parse(new TextDecoder().decode(entry.value));
        if (record?.user === `user-${u}`) {
          assert.ok(
            listed.has(await sha256(device.token)),
            `seed ${seed}: a live session of user-${u} is in the index`,
          );
        }
      }
    }
    console.log(
      `  ${
        [...acked.values()].reduce((a, b) => a + b, 0)
      } acknowledged increments, ${
        [...unsure.values()].reduce((a, b) => a + b, 0)
      } refused, ${ended.size} sessions ended, ${checked} live sessions checked`,
    );
  } finally {
    for (const r of clients) r.destroy();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
