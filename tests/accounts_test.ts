// Accounts: the per-user index, listing, revoking, and flash messages.
import assert from "node:assert/strict";
import {
  getSession,
  listSessions,
  revokeSession,
  revokeUserSessions,
  type SessionStore,
  withSession,
} from "../mod.ts";
import {
  Browser,
  collect,
  gate,
  sleep,
  storedRecord,
  STORES,
} from "./_helpers.ts";
import {
  REDIS_CLUSTER_STORES,
  REDIS_STORES,
  stopSharedCluster,
} from "./_redis.ts";
import { POSTGRES_STORES } from "./_postgres.ts";

/** An app where /login?u=… logs in, /add increments, /logout, /destroy, /regen. */
function accountApp(
  store: SessionStore,
  extra: Parameters<typeof withSession>[1] = {},
) {
  const holds = new Map<string, Promise<void>>();
  /** Requests that loaded their session and reached a hold, by name. */
  const held = new Map<string, number>();
  const app = withSession(async (req) => {
    const s = getSession<{ n: number }>(req);
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/login":
        await s.login(url.searchParams.get("u")!, {
          agent: req.headers.get("user-agent") ?? "?",
        });
        break;
      case "/add": {
        s.get("n");
        const name = url.searchParams.get("hold") ?? "";
        const hold = holds.get(name);
        held.set(name, (held.get(name) ?? 0) + 1);
        if (hold) await hold;
        s.update("n", (n) => (n ?? 0) + 1);
        break;
      }
      case "/logout":
        await s.logout();
        break;
      case "/destroy":
        await s.destroy();
        break;
      case "/regen":
        await s.regenerate();
        break;
    }
    return Response.json({ user: s.userId, id: s.id, n: s.get("n") ?? null });
  }, { store, ...extra });
  return { app, holds, held };
}

const indexOf = async (store: SessionStore, user: string) =>
  (await collect(store.list(["user", user]))).map((e) => e.key[2]);

for (
  const fixture of [
    ...STORES,
    ...REDIS_STORES,
    REDIS_CLUSTER_STORES[0]!,
    ...POSTGRES_STORES,
  ]
) {
  Deno.test(`Accounts: listing and revoking a user's sessions (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    const { app, holds, held } = accountApp(store);
    try {
      await t.step(
        "login() indexes the session; listSessions shows exactly the live ones",
        async () => {
          const a = new Browser(app);
          const b = new Browser(app);
          const other = new Browser(app);
          await a.fetch("http://localhost/login?u=ada", {
            headers: { "user-agent": "Firefox" },
          });
          await b.fetch("http://localhost/login?u=ada", {
            headers: { "user-agent": "Safari" },
          });
          await other.fetch("http://localhost/login?u=bob");
          const listed = await listSessions(store, "ada");
          assert.deepEqual(
            listed.map((s) => s.metadata).sort((x, y) =>
              String(x!.agent).localeCompare(String(y!.agent))
            ),
            [
              { agent: "Firefox" },
              { agent: "Safari" },
            ],
          );
          const tokens = [...a.cookies.values(), ...b.cookies.values()].map((
            c,
          ) => c.value);
          for (const s of listed) {
            assert.ok(!tokens.includes(s.id), "an id is never a token");
            assert.ok(
              s.created > 0 && s.lastSeen >= s.created && s.https === false,
            );
          }
          assert.equal((await listSessions(store, "bob")).length, 1);
        },
      );

      await t.step(
        "revokeSession ends one session; another user's id is refused",
        async () => {
          const c = new Browser(app);
          const { id } = await (await c.fetch("http://localhost/login?u=cy"))
            .json();
          const bob = (await listSessions(store, "bob"))[0]!;
          assert.equal(await revokeSession(store, "cy", bob.id), false);
          assert.equal(
            (await listSessions(store, "bob")).length,
            1,
            "bob's session is untouched",
          );
          assert.equal(await revokeSession(store, "cy", id), true);
          assert.deepEqual(await (await c.fetch("http://localhost/")).json(), {
            user: null,
            id: null,
            n: null,
          });
          assert.deepEqual(await listSessions(store, "cy"), []);
        },
      );

      await t.step(
        "revoke-all of 100 sessions leaves none usable and other users alone",
        async () => {
          const browsers = Array.from({ length: 100 }, () => new Browser(app));
          await Promise.all(
            browsers.map((b) => b.fetch("http://localhost/login?u=dee")),
          );
          const bob = new Browser(app);
          await bob.fetch("http://localhost/login?u=bob");
          assert.equal((await listSessions(store, "dee")).length, 100);
          const keep = await (await browsers[0]!.fetch("http://localhost/"))
            .json();
          assert.equal(
            await revokeUserSessions(store, "dee", { except: keep.id }),
            99,
          );
          const after = await Promise.all(
            browsers.map(async (b) =>
              (await (await b.fetch("http://localhost/")).json()).user
            ),
          );
          assert.equal(after[0], "dee", "the excepted session lives");
          assert.deepEqual(after.slice(1), Array(99).fill(null));
          assert.equal(await revokeUserSessions(store, "dee"), 1);
          assert.equal(
            (await (await browsers[0]!.fetch("http://localhost/")).json()).user,
            null,
          );
          assert.equal(
            (await (await bob.fetch("http://localhost/")).json()).user,
            "bob",
          );
          assert.deepEqual(await indexOf(store, "dee"), []);
        },
      );

      await t.step(
        "revoking while 20 writes are in flight resurrects none",
        async () => {
          const browsers = Array.from({ length: 20 }, () => new Browser(app));
          await Promise.all(
            browsers.map((b) => b.fetch("http://localhost/login?u=eve")),
          );
          const hold = gate();
          holds.set("r", hold.promise);
          const inFlight = browsers.map((b) =>
            b.fetch("http://localhost/add?hold=r")
          );
          // Every request has loaded its session before the revocation (a
          // request loading after it would rightly start a new session).
          for (let i = 0; i < 1000 && held.get("r") !== 20; i++) {
            await sleep(10);
          }
          assert.equal(held.get("r"), 20, "all 20 requests are held");
          assert.equal(await revokeUserSessions(store, "eve"), 20);
          hold.open();
          const responses = await Promise.all(inFlight);
          assert.ok(responses.every((r) => r.status === 200));
          assert.deepEqual(await listSessions(store, "eve"), []);
          for (const b of browsers) {
            assert.equal(
              await storedRecord(store, b.cookies.get("session")!.value),
              null,
            );
          }
          assert.deepEqual(await indexOf(store, "eve"), []);
        },
      );

      await t.step(
        "index entries are removed by logout, destroy and rotation",
        async () => {
          const f = new Browser(app);
          const first = await (await f.fetch("http://localhost/login?u=fay"))
            .json();
          const regen = await (await f.fetch("http://localhost/regen")).json();
          assert.notEqual(regen.id, first.id);
          assert.deepEqual(
            await indexOf(store, "fay"),
            [regen.id],
            "rotation moves the entry",
          );
          await f.fetch("http://localhost/logout");
          assert.deepEqual(await indexOf(store, "fay"), []);
          await f.fetch("http://localhost/login?u=fay");
          await f.fetch("http://localhost/login?u=gus");
          assert.deepEqual(
            await indexOf(store, "fay"),
            [],
            "a login as someone else moves it",
          );
          assert.equal((await indexOf(store, "gus")).length, 1);
          await f.fetch("http://localhost/destroy");
          assert.deepEqual(await indexOf(store, "gus"), []);
        },
      );
    } finally {
      close();
    }
  });

  Deno.test(`Accounts: an expired session is not listed, and its index entry goes once its record is gone (${fixture.name})`, async () => {
    const { store, close } = await fixture.open();
    try {
      const { app } = accountApp(store, {
        idleTimeout: 30,
        allowShortTimeouts: true,
      });
      const browser = new Browser(app);
      const { id } = await (await browser.fetch("http://localhost/login?u=hal"))
        .json();
      assert.equal((await indexOf(store, "hal")).length, 1);
      await sleep(50);
      assert.deepEqual(
        await listSessions(store, "hal", { idleTimeout: 30 }),
        [],
      );
      // The store collects the expired record (Deno KV does it lazily).
      await store.commit({
        checks: [],
        sets: [],
        deletes: [["session", id]],
      });
      assert.deepEqual(await listSessions(store, "hal"), []);
      assert.deepEqual(
        await indexOf(store, "hal"),
        [],
        "the stale entry was removed",
      );
    } finally {
      close();
    }
  });

  Deno.test(`Accounts: listSessions() with shorter timeouts than the app's hides a live session, and revokeUserSessions() still ends it (${fixture.name})`, async () => {
    const { store, close } = await fixture.open();
    try {
      const { app } = accountApp(store, {
        idleTimeout: 8 * 3_600_000,
        absoluteTimeout: 30 * 86_400_000,
      });
      const browser = new Browser(app);
      await browser.fetch("http://localhost/login?u=hal");
      await sleep(20);
      // A caller that forgot the app's timeouts, or passed other ones.
      assert.deepEqual(
        await listSessions(store, "hal", {
          idleTimeout: 10,
          absoluteTimeout: 10,
        }),
        [],
      );
      assert.equal((await listSessions(store, "hal")).length, 1);
      assert.equal(await revokeUserSessions(store, "hal"), 1);
      const after = await (await browser.fetch("http://localhost/")).json();
      assert.equal(after.user, null, "signed out everywhere");
    } finally {
      close();
    }
  });

  Deno.test(`Flash messages are shown once and survive one redirect (${fixture.name})`, async () => {
    const { store, close } = await fixture.open();
    try {
      const app = withSession(async (req) => {
        const s = getSession(req);
        const path = new URL(req.url).pathname;
        if (path === "/login") {
          await s.login("ada");
          s.flash("notice", { text: "Welcome back", kind: "ok" });
          return Response.redirect("http://localhost/", 303);
        }
        return Response.json(
          s.takeFlash<{ text: string }>("notice")?.text ?? null,
        );
      }, { store });
      const browser = new Browser(app);
      const redirect = await browser.fetch("http://localhost/login", {
        method: "POST",
      });
      assert.equal(redirect.status, 303);
      assert.equal(
        await (await browser.fetch("http://localhost/")).json(),
        "Welcome back",
      );
      assert.equal(
        await (await browser.fetch("http://localhost/")).json(),
        null,
        "not shown twice",
      );
      const other = new Browser(app);
      assert.equal(await (await other.fetch("http://localhost/")).json(), null);
    } finally {
      close();
    }
  });
}

// Last: the Redis Cluster the cluster fixtures started (tests/_redis.ts).
Deno.test("Redis Cluster fixtures: stop the cluster", stopSharedCluster);
