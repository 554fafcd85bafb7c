// redisStore on a real 3-node Redis Cluster (started by this file, stopped by
// its last test): sessions spread over slots and nodes, "sign out
// everywhere" across them, and the order of a split commit — the index is
// written first and cleaned last, so a commit that fails half-way leaves at
// most a stale index member, which is harmless and removed when found. The
// shared suites run on the cluster too (store_conformance_test.ts,
// accounts_test.ts, lifecycle_test.ts, reliability/races_test.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  getSession,
  listSessions,
  type RedisClientLike,
  redisStore,
  type RedisStoreOptions,
  revokeUserSessions,
  type SessionStore,
  withSession,
} from "../mod.ts";
import { collect, gate } from "./_helpers.ts";
import { nodeRedisCluster, stopSharedCluster } from "./_redis.ts";
import { within } from "./reliability/_support.ts";

type Decide = (
  command: string,
  args: string[],
  key: string | undefined,
) => void | Promise<void>;

/** Stores on the cluster sharing one key prefix, each with an optional hook
 * on every command it sends (to count, stall or fail it before it reaches
 * Redis), and the raw client. */
async function onCluster(options: RedisStoreOptions = {}) {
  const { r, client, prefix, close } = await nodeRedisCluster();
  const wrapped = (decide?: Decide): RedisClientLike => ({
    async send(command, args, key) {
      await decide?.(command, args, key);
      return client.send(command, args, key);
    },
  });
  const store = (decide?: Decide): SessionStore =>
    redisStore(wrapped(decide), { prefix, ...options });
  const indexKey = (user: string) =>
    `${prefix}user:{${createHash("sha256").update(user).digest("base64url")}}`;
  const sessionKey = (id: string) => `${prefix}session/${id}`;
  return { r, store, indexKey, sessionKey, close };
}

const isScript = (command: string) =>
  command === "EVALSHA" || command === "EVAL";

/** `/login?u=` signs in and stores n=1, `/signin?u=` only signs in,
 * `/visit` stores n=1 anonymously, `/` only reads; each answers what it
 * saw. */
function app(store: SessionStore) {
  return withSession(async (req) => {
    const session = getSession<{ n: number }>(req);
    const url = new URL(req.url);
    if (url.pathname === "/login" || url.pathname === "/signin") {
      await session.login(url.searchParams.get("u")!);
      // A save after the login writes the index entry again; /signin has
      // none, so nothing repairs what the login's own commit left.
      if (url.pathname === "/login") session.set("n", 1);
    }
    if (url.pathname === "/visit") session.set("n", 1);
    return Response.json({
      user: session.userId,
      id: session.id,
      n: session.get("n") ?? null,
    });
  }, { store });
}

type Seen = { user: string | null; id: string | null; n: number | null };

/** Sends a request with `cookie`; its status, body and the new cookie. */
async function call(
  handler: (req: Request) => Promise<Response>,
  path: string,
  cookie?: string,
) {
  const res = await handler(
    new Request(`http://localhost${path}`, {
      headers: cookie === undefined ? {} : { cookie },
    }),
  );
  const set = res.headers.getSetCookie().find((line) =>
    line.startsWith("session=")
  );
  const body: Seen | null = res.status === 200 ? await res.json() : null;
  if (body === null) await res.body?.cancel();
  return {
    status: res.status,
    body,
    cookie: set === undefined ? cookie : set.split(";")[0]!,
  };
}

/** The master (host:port) serving each slot. */
async function slotOwners(
  r: Awaited<ReturnType<typeof nodeRedisCluster>>["r"],
): Promise<(slot: number) => string> {
  const ranges = await r.sendCommand(undefined, true, [
    "CLUSTER",
    "SLOTS",
  ]) as [number, number, [string, number]][];
  return (slot) => {
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
    return `${range[2][0]}:${range[2][1]}`;
  };
}

Deno.test("redisStore on Redis Cluster: revokeUserSessions ends 100 sessions spread over slots and nodes, and no other user's; listSessions shows exactly the live ones", async () => {
  const { r, store, indexKey, sessionKey, close } = await onCluster();
  try {
    const handler = app(store());
    const ada: { cookie: string; id: string }[] = [];
    for (let i = 0; i < 100; i++) {
      const { status, body, cookie } = await call(handler, "/login?u=ada");
      assert.equal(status, 200);
      ada.push({ cookie: cookie!, id: body!.id! });
    }
    const bob: string[] = [];
    for (let i = 0; i < 3; i++) {
      bob.push((await call(handler, "/login?u=bob")).cookie!);
    }

    // The sessions really are spread: many slots, every node.
    const owner = await slotOwners(r);
    const slots = await Promise.all(
      ada.map(async ({ id }) =>
        Number(
          await r.sendCommand(undefined, true, [
            "CLUSTER",
            "KEYSLOT",
            sessionKey(id),
          ]),
        )
      ),
    );
    assert.ok(new Set(slots).size >= 90, `${new Set(slots).size} slots`);
    assert.equal(new Set(slots.map(owner)).size, 3, "on all three nodes");
    // The tooling list scans every master.
    assert.equal((await collect(store().list(["session"]))).length, 103);

    const listed = await listSessions(store(), "ada");
    assert.deepEqual(
      listed.map((s) => s.id).sort(),
      ada.map((s) => s.id).sort(),
      "listSessions shows every one of them",
    );

    assert.equal(await revokeUserSessions(store(), "ada"), 100);
    for (const { cookie } of ada) {
      const { status, body } = await call(handler, "/", cookie);
      assert.equal(status, 200);
      assert.deepEqual(
        { user: body!.user, n: body!.n },
        { user: null, n: null },
        "a revoked cookie reaches no session and no data",
      );
    }
    for (const id of ada.map((s) => s.id)) {
      assert.equal(await r.get(sessionKey(id)), null);
    }
    assert.equal(await r.exists(indexKey("ada")), 0, "ada's index is gone");
    assert.deepEqual(await listSessions(store(), "ada"), []);

    for (const cookie of bob) {
      const { body } = await call(handler, "/", cookie);
      assert.deepEqual({ user: body!.user, n: body!.n }, { user: "bob", n: 1 });
    }
    assert.equal((await listSessions(store(), "bob")).length, 3);
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: a session whose index add succeeded but whose commit failed is harmless and repaired", async (t) => {
  const { r, store, indexKey, sessionKey, close } = await onCluster();
  try {
    await t.step(
      "a login whose session part fails: 503, no cookie, a stale member that listSessions removes",
      async () => {
        let armed = true;
        const faulty = store((command, _args, key) => {
          if (armed && isScript(command) && key?.includes("session/")) {
            armed = false;
            throw new Error("injected: the session's node failed");
          }
        });
        const { status, cookie } = await call(app(faulty), "/login?u=ada");
        assert.equal(status, 503, "the failure is reported, not hidden");
        assert.equal(cookie, undefined, "no token reaches the browser");
        const members = await r.zRange(indexKey("ada"), 0, -1);
        assert.equal(members.length, 1, "the index was written first");
        assert.equal(await r.get(sessionKey(members[0]!)), null, "no session");
        assert.deepEqual(await listSessions(store(), "ada"), [], "not live");
        assert.deepEqual(
          await r.zRange(indexKey("ada"), 0, -1),
          [],
          "removed by the listing",
        );
      },
    );

    await t.step(
      "a login whose old session's part fails: the new session is undone, the old one kept",
      async () => {
        const handler = app(store());
        const visit = await call(handler, "/visit");
        const id = (await call(handler, "/", visit.cookie)).body!.id!;
        const old = sessionKey(id);
        let armed = true;
        const faulty = store((command, _args, key) => {
          if (armed && isScript(command) && key === old) {
            armed = false;
            throw new Error("injected: the old session's node failed");
          }
        });
        const { status, cookie } = await call(
          app(faulty),
          "/login?u=bea",
          visit.cookie,
        );
        assert.equal(status, 503);
        assert.equal(cookie, visit.cookie, "the old cookie stays");
        const after = await call(handler, "/", visit.cookie);
        assert.deepEqual(
          { user: after.body!.user, n: after.body!.n },
          { user: null, n: 1 },
          "the old session is as it was",
        );
        assert.deepEqual(
          (await collect(store().list(["session"]))).map((e) => e.key[1]),
          [id],
          "no second session is left (the new one was deleted)",
        );
        assert.deepEqual(await listSessions(store(), "bea"), []);
        assert.equal(await r.exists(indexKey("bea")), 0, "and its member went");
      },
    );
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: an index add that fails leaves no usable session outside the index", async () => {
  const { store, close } = await onCluster();
  try {
    let armed = true;
    const faulty = store((command, _args, key) => {
      if (armed && isScript(command) && key?.includes("user:{")) {
        armed = false;
        throw new Error("injected: the index's node failed");
      }
    });
    const login = await call(app(faulty), "/signin?u=ada");
    assert.equal(login.status, 503);
    // Whatever the failed login left, sign-out-everywhere must reach it.
    await revokeUserSessions(store(), "ada");
    if (login.cookie !== undefined) {
      const { body } = await call(app(store()), "/", login.cookie);
      assert.equal(body!.user, null, "no session outlives the revocation");
    }
    assert.deepEqual(await collect(store().list(["session"])), []);
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: a revocation that fails half-way keeps the sessions it did not end in the index, so a retry ends them", async () => {
  const { store, close } = await onCluster();
  try {
    const handler = app(store());
    const cookies: string[] = [];
    for (let i = 0; i < 10; i++) {
      cookies.push((await call(handler, "/login?u=ada")).cookie!);
    }
    let failures = 3;
    const faulty = store((command, _args, key) => {
      if (failures > 0 && isScript(command) && key?.includes("session/")) {
        failures--;
        throw new Error("injected: a session's node failed");
      }
    });
    await assert.rejects(revokeUserSessions(faulty, "ada"));
    const usable = [];
    for (const cookie of cookies) {
      const { body } = await call(handler, "/", cookie);
      if (body!.user === "ada") usable.push(body!.id!);
    }
    assert.ok(usable.length > 0, "some sessions survived the failure");
    const listed = (await listSessions(store(), "ada")).map((s) => s.id);
    for (const id of usable) {
      assert.ok(listed.includes(id), "each survivor is still listed");
    }
    await revokeUserSessions(store(), "ada");
    for (const cookie of cookies) {
      assert.equal((await call(handler, "/", cookie)).body!.user, null);
    }
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: a login racing revokeUserSessions is either revoked or listed", async (t) => {
  const { store, close } = await onCluster();
  try {
    /** Holds the login's session part until released; resolves `reached`
     * once the login got there (its index add done). */
    const holdLogin = () => {
      const reached = gate();
      const release = gate();
      let held = false;
      const client = store(async (command, _args, key) => {
        if (!held && isScript(command) && key?.includes("session/")) {
          held = true;
          reached.open();
          await release.promise;
        }
      });
      return { client, reached, release };
    };
    /** The invariant: a usable cookie's session is listed. */
    const check = async (cookie: string | undefined, user: string) => {
      const ids = (await listSessions(store(), user)).map((s) => s.id);
      const { body } = await call(app(store()), "/", cookie);
      if (body!.user === user) {
        assert.ok(ids.includes(body!.id!), "a live session is listed");
      }
      return body!.user;
    };

    await t.step(
      "the revocation runs whole between the login's index add and its session",
      async () => {
        const login = holdLogin();
        const pending = call(app(login.client), "/signin?u=ada");
        await within(10_000, "the login's index add", login.reached.promise);
        // It sees the login's member and removes it; the session is not there.
        await revokeUserSessions(store(), "ada");
        login.release.open();
        const { status, cookie } = await within(10_000, "the login", pending);
        assert.equal(status, 200);
        assert.equal(await check(cookie, "ada"), "ada", "the login came after");
      },
    );

    await t.step(
      "the revocation's index removal lands after the login's re-add",
      async () => {
        const login = holdLogin();
        const pending = call(app(login.client), "/signin?u=bo");
        await within(10_000, "the login's index add", login.reached.promise);
        // The revocation lists the member, ends its (absent) session, and is
        // held before its index removal.
        const removal = gate();
        const release = gate();
        let ended = false;
        const revoker = store(async (command, _args, key) => {
          if (isScript(command) && key?.includes("session/")) ended = true;
          if (ended && isScript(command) && key?.includes("user:{")) {
            ended = false;
            removal.open();
            await release.promise;
          }
        });
        const revoking = revokeUserSessions(revoker, "bo");
        try {
          await within(10_000, "the revocation's index part", removal.promise);
          login.release.open();
          const { status, cookie } = await within(10_000, "the login", pending);
          assert.equal(status, 200);
          release.open();
          assert.equal(await within(10_000, "the revocation", revoking), 1);
          assert.equal(await check(cookie, "bo"), "bo", "the login came after");
        } finally {
          // Nothing stays held when an assertion failed.
          login.release.open();
          release.open();
        }
      },
    );
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: the cluster is detected once (INFO cluster), or taken from the option", async (t) => {
  await t.step("detected", async () => {
    const { store, close } = await onCluster();
    try {
      let info = 0;
      const handler = app(store((command) => {
        if (command === "INFO") info++;
      }));
      for (let i = 0; i < 3; i++) {
        assert.equal((await call(handler, "/login?u=ada")).status, 200);
      }
      assert.equal(info, 1);
    } finally {
      await close();
    }
  });
  await t.step("cluster: true asks nothing", async () => {
    const { store, close } = await onCluster({ cluster: true });
    try {
      let info = 0;
      const handler = app(store((command) => {
        if (command === "INFO") info++;
      }));
      assert.equal((await call(handler, "/login?u=ada")).status, 200);
      assert.equal(info, 0);
      assert.equal((await listSessions(store(), "ada")).length, 1);
    } finally {
      await close();
    }
  });
});

Deno.test("redisStore on Redis Cluster: a key prefix with a hash tag keeps all keys in one slot, so a login is one script as on one Redis", async () => {
  const { store, close } = await onCluster({
    prefix: `{tagged-${crypto.randomUUID()}}:`,
  });
  try {
    let scripts = 0;
    const handler = app(store((command) => {
      if (command === "EVALSHA") scripts++;
    }));
    const { status, body } = await call(handler, "/login?u=ada");
    assert.equal(status, 200);
    // The login's commit (session and index together) and the save of n.
    assert.equal(scripts, 2, "one script per commit");
    assert.deepEqual(
      (await listSessions(store(), "ada")).map((s) => s.id),
      [body!.id],
    );
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: a failed check on an index entry writes nothing in its slot, nor elsewhere", async () => {
  const { r, store, indexKey, sessionKey, close } = await onCluster();
  try {
    const s = store();
    const bytes = (text: string) => new TextEncoder().encode(text);
    const member = ["user", "ada", "m"];
    const first = await s.commit({
      checks: [],
      sets: [{ key: member, value: bytes("1"), expireIn: 60_000 }],
      deletes: [],
    });
    await s.commit({
      checks: [],
      sets: [{ key: member, value: bytes("2"), expireIn: 60_000 }],
      deletes: [],
    });
    assert.equal(
      await s.commit({
        checks: [{ key: member, versionstamp: first }],
        sets: [{ key: member, value: bytes("3"), expireIn: 60_000 }, {
          key: ["session", "x"],
          value: bytes("x"),
        }],
        deletes: [],
      }),
      null,
    );
    assert.equal(
      new TextDecoder().decode((await s.get(member))!.value),
      "2",
      "the index entry kept its value",
    );
    assert.equal(await r.get(sessionKey("x")), null, "no session written");
    assert.equal(await r.zCard(indexKey("ada")), 1);
  } finally {
    await close();
  }
});

Deno.test("redisStore on Redis Cluster: stop the cluster", stopSharedCluster);
