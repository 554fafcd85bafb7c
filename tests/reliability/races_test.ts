// Races in one process, over real stores: no lost write, no resurrection.
import assert from "node:assert/strict";
import {
  getSession,
  listSessions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import {
  allKeys,
  arrivals,
  conflictCounting,
  type Gate,
  gate,
  raceApp,
  readSession,
  REAL_STORES,
  request,
  sessionCookie,
  sessionRecords,
  within,
} from "./_support.ts";
import { REDIS_CLUSTER_STORES, stopSharedCluster } from "../_redis.ts";

/** Holds requests to chosen paths after their session loaded. */
function holder() {
  let held = new Map<string, Gate>();
  let arrived = arrivals(0);
  let remaining = 0;
  return {
    hold: async (path: string) => {
      const release = held.get(path);
      if (release === undefined || remaining <= 0) return;
      remaining--;
      arrived.arrive();
      await release.promise;
    },
    /** Holds the next `n` requests to `paths` until released. */
    arm(n: number, ...paths: string[]) {
      const gates = new Map(paths.map((path) => [path, gate()]));
      held = gates;
      arrived = arrivals(n);
      remaining = n;
      return {
        loaded: within(10_000, `${n} loads`, arrived.all),
        /** Releases the requests to `only` (default: all held paths). */
        open: (...only: string[]) => {
          for (const path of only.length === 0 ? paths : only) {
            gates.get(path)!.open();
          }
        },
      };
    },
  };
}

async function expectOk(responses: Promise<Response[]>): Promise<string[]> {
  const all = await within(30_000, "the racing requests", responses);
  const bodies = await Promise.all(all.map((r) => r.text()));
  assert.deepEqual(
    all.map((r) => r.status).filter((s) => s !== 200),
    [],
    `every racing request succeeds (bodies: ${
      bodies.filter((_, i) => all[i]!.status !== 200).slice(0, 3)
    })`,
  );
  return bodies;
}

for (const kind of [...REAL_STORES, REDIS_CLUSTER_STORES[0]!]) {
  Deno.test(`races: 200 parallel update() increments give 200 (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const h = holder();
      const counted = conflictCounting(store);
      // 200 saves on one version: some lose many rounds on a slow, loaded
      // store. What is checked here is that none is lost; the bound on
      // attempts has its own test (faults_test.ts).
      const app = raceApp(counted, h.hold, { maxAttempts: 1000 });
      const cookie = sessionCookie(await app(request("/set?k=seed&v=1")))!;
      const round = h.arm(200, "/inc");
      const racing = Promise.all(
        Array.from({ length: 200 }, () => app(request("/inc", cookie))),
      );
      await round.loaded; // all 200 read the same version before any saves
      round.open();
      await expectOk(racing);
      const { values } = await readSession(app, cookie);
      assert.equal(values.n, 200);
      assert.ok(counted.conflicts > 0, "the saves did conflict");
      assert.equal(values.seed, "1");
      assert.equal((await sessionRecords(store)).length, 1);
    } finally {
      await close();
    }
  });

  Deno.test(`races: a flash whose save lost to a parallel write is replayed onto it, and taken once (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const counted = conflictCounting(store);
      const reached = gate();
      const held = gate();
      const app = withSession(async (req) => {
        const session = getSession(req);
        switch (new URL(req.url).pathname) {
          case "/flash":
            reached.open();
            await held.promise;
            session.flash("notice", "saved");
            return new Response("flashed");
          case "/take":
            return Response.json({
              notice: session.takeFlash("notice") ?? null,
              n: session.get("n"),
            });
          default:
            return new Response(
              String(session.update("n", (n = 0) => (n as number) + 1)),
            );
        }
      }, { store: counted });
      // A record with no flash, the one both requests load.
      const cookie = sessionCookie(await app(request("/inc")))!;
      const flashing = app(request("/flash", cookie));
      await within(10_000, "the flash request's load", reached.promise);
      assert.equal(await (await app(request("/inc", cookie))).text(), "2");
      held.open();
      assert.equal(await (await flashing).text(), "flashed");
      assert.ok(counted.conflicts > 0, "the flash's save did conflict");
      const take = async () =>
        await (await app(request("/take", cookie))).json();
      assert.deepEqual(await take(), { notice: "saved", n: 2 });
      assert.deepEqual(await take(), { notice: null, n: 2 });
    } finally {
      await close();
    }
  });

  Deno.test(`races: a flash set while the request's own save() is in flight is kept (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      // The real store, its commits slowed: the save is still in flight
      // when the handler sets the flash.
      const slow: SessionStore = {
        maxValueBytes: store.maxValueBytes,
        get: (key) => store.get(key),
        commit: async (change) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          return await store.commit(change);
        },
        list: (prefix) => store.list(prefix),
      };
      const app = withSession(async (req) => {
        const session = getSession(req);
        switch (new URL(req.url).pathname) {
          case "/start":
            session.set("n", 1);
            return new Response("started");
          case "/flash": {
            session.set("n", 2);
            const saving = session.save();
            await new Promise((resolve) => setTimeout(resolve, 5));
            session.flash("notice", "saved");
            await saving;
            session.set("n", 3);
            return new Response("flashed");
          }
          default:
            return Response.json({
              notice: session.takeFlash("notice") ?? null,
              n: session.get("n"),
            });
        }
      }, { store: slow });
      const cookie = sessionCookie(await app(request("/start")))!;
      assert.equal(
        await (await app(request("/flash", cookie))).text(),
        "flashed",
      );
      assert.deepEqual(
        await (await app(request("/take", cookie))).json(),
        { notice: "saved", n: 3 },
      );
    } finally {
      await close();
    }
  });

  Deno.test(`races: parallel set() of distinct keys all survive (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const h = holder();
      const counted = conflictCounting(store);
      const app = raceApp(counted, h.hold);
      const cookie = sessionCookie(await app(request("/set?k=seed&v=1")))!;
      const round = h.arm(50, "/set");
      const racing = Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => app(request(`/set?k=k${i}&v=v${i}`, cookie)),
        ),
      );
      await round.loaded;
      round.open();
      await expectOk(racing);
      const { values } = await readSession(app, cookie);
      const expected: Record<string, string> = { seed: "1" };
      for (let i = 0; i < 50; i++) expected[`k${i}`] = `v${i}`;
      assert.deepEqual(values, expected);
      assert.ok(counted.conflicts > 0, "the saves did conflict");
    } finally {
      await close();
    }
  });

  Deno.test(`races: a slow read-only request never overwrites a parallel write (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const h = holder();
      const counted = conflictCounting(store);
      // touchInterval 0: every read-only request tries to refresh the
      // last-seen time, the write most likely to clobber a parallel one.
      const app = raceApp(counted, h.hold, { touchInterval: 0 });
      const cookie = sessionCookie(await app(request("/set?k=profile&v=old")))!;
      const round = h.arm(5, "/get");
      const readers = Promise.all(
        Array.from({ length: 5 }, () => app(request("/get", cookie))),
      );
      await round.loaded; // the readers hold the old version
      for (let i = 0; i < 5; i++) {
        assert.equal((await app(request("/inc", cookie))).status, 200);
      }
      assert.equal(
        (await app(request("/set?k=profile&v=new", cookie))).status,
        200,
      );
      round.open();
      for (const body of await expectOk(readers)) {
        assert.deepEqual(JSON.parse(body).values, { profile: "old" });
      }
      const { values } = await readSession(app, cookie);
      assert.deepEqual(values, { profile: "new", n: 5 });
      assert.ok(counted.conflicts >= 5, "every reader tried to refresh");
    } finally {
      await close();
    }
  });

  for (const end of ["/logout", "/destroy"]) {
    Deno.test(`races: ${end.slice(1)}() racing slow writers leaves no session behind (${kind.name})`, async (t) => {
      const { store, close } = await kind.open();
      try {
        const h = holder();
        const counted = conflictCounting(store);
        const app = raceApp(counted, h.hold, { persistentFieldsOnLogout: [] });
        for (const order of ["writers after it", "writers alongside it"]) {
          await t.step(order, async () => {
            const cookie = sessionCookie(
              await app(request("/set?k=a&v=1")),
            )!;
            const round = h.arm(21, "/set", "/inc", end);
            const writers = Array.from(
              { length: 20 },
              (_, i) =>
                app(
                  request(i % 2 === 0 ? `/set?k=w${i}&v=x` : "/inc", cookie),
                ),
            );
            const ending = app(request(end, cookie));
            await round.loaded; // all writers loaded the live session
            if (order === "writers after it") {
              // The end commits first; the writers save on a dead session.
              round.open(end);
              assert.equal((await ending).status, 200);
            }
            round.open();
            await expectOk(Promise.all([ending, ...writers]));
            assert.deepEqual(await allKeys(store), [], "no record is left");
            if (order === "writers after it") {
              assert.ok(counted.conflicts >= 20, "every writer saw a conflict");
            }
            const { values } = await readSession(app, cookie);
            assert.deepEqual(values, {}, "the old cookie reads nothing");
          });
        }
      } finally {
        await close();
      }
    });
  }

  Deno.test(`races: logout() keeping a field racing writers leaves one session with that field only (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const h = holder();
      const counted = conflictCounting(store);
      const app = raceApp(counted, h.hold);
      const cookie = sessionCookie(
        await app(request("/set?k=language&v=de")),
      )!;
      await app(request("/set?k=cart&v=book", cookie));
      const round = h.arm(21, "/set", "/inc", "/logout");
      const writers = Array.from(
        { length: 20 },
        (_, i) =>
          app(request(i % 2 === 0 ? `/set?k=w${i}&v=x` : "/inc", cookie)),
      );
      const logout = app(request("/logout", cookie));
      await round.loaded;
      round.open();
      await expectOk(Promise.all([logout, ...writers]));
      assert.equal((await allKeys(store)).length, 1, "nothing else stored");
      const live = await sessionRecords(store);
      assert.equal(live.length, 1, "exactly one live session");
      assert.deepEqual(live[0]!.record.data, { language: "de" });
      assert.equal(live[0]!.record.user, null);
      const fresh = sessionCookie(await logout)!;
      assert.notEqual(fresh, cookie);
      assert.deepEqual(await readSession(app, fresh), {
        values: { language: "de" },
        user: null,
      });
      assert.deepEqual((await readSession(app, cookie)).values, {});
    } finally {
      await close();
    }
  });

  Deno.test(`races: login() racing writers leaves one live session holding only what login keeps (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const h = holder();
      const counted = conflictCounting(store);
      const app = raceApp(counted, h.hold);
      const cookie = sessionCookie(
        await app(request("/set?k=language&v=de")),
      )!;
      await app(request("/set?k=cart&v=book", cookie));
      const round = h.arm(41, "/set", "/inc", "/login");
      const writers = Array.from(
        { length: 40 },
        (_, i) =>
          app(request(i % 2 === 0 ? `/set?k=w${i}&v=x` : "/inc", cookie)),
      );
      const login = app(request("/login?u=ada", cookie));
      await round.loaded;
      round.open();
      await expectOk(Promise.all([login, ...writers]));
      const live = await sessionRecords(store);
      assert.equal(live.length, 1, "exactly one live session");
      assert.deepEqual(live[0]!.record.data, { language: "de" });
      assert.equal(live[0]!.record.user, "ada");
      const listed = await listSessions(store, "ada");
      assert.deepEqual(
        listed.map((s) => ["session", s.id]),
        [live[0]!.key],
        "the user's index names that session only",
      );
      const fresh = sessionCookie(await login)!;
      assert.deepEqual(await readSession(app, fresh), {
        values: { language: "de" },
        user: "ada",
      });
      assert.deepEqual(await readSession(app, cookie), {
        values: {},
        user: null,
      });
    } finally {
      await close();
    }
  });

  Deno.test(`races: N parallel first requests create N independent sessions, no orphans (${kind.name})`, async () => {
    const { store, close } = await kind.open();
    try {
      const h = holder();
      const counted = conflictCounting(store);
      const app = raceApp(counted, h.hold);
      const n = 50;
      const round = h.arm(n, "/set");
      const racing = Promise.all(
        Array.from({ length: n }, (_, i) => app(request(`/set?k=mine&v=${i}`))),
      );
      await round.loaded;
      round.open();
      await expectOk(racing);
      const cookies = (await racing).map((r) => sessionCookie(r));
      assert.equal(new Set(cookies).size, n, "N distinct cookies");
      assert.equal((await sessionRecords(store)).length, n, "N sessions");
      assert.equal((await allKeys(store)).length, n, "no orphaned records");
      for (const [i, cookie] of cookies.entries()) {
        assert.deepEqual((await readSession(app, cookie)).values, {
          mine: String(i),
        });
      }
    } finally {
      await close();
    }
  });
}

// Last: the Redis Cluster the cluster fixtures started (tests/_redis.ts).
Deno.test("Redis Cluster fixtures: stop the cluster", stopSharedCluster);
