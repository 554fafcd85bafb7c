// storeTimeout: a store call that does not answer in time fails the request
// closed (503 through onError) instead of hanging it.
import assert from "node:assert/strict";
import {
  getSession,
  listSessions,
  memoryStore,
  revokeSession,
  revokeUserSessions,
  type SessionStore,
  SessionStoreTimeoutError,
  withSession,
} from "../mod.ts";
import { Browser, runDeno, sha256, STORES } from "./_helpers.ts";
import { REDIS_STORES } from "./_redis.ts";
import { within } from "./reliability/_support.ts";

/** A real store whose calls can be held until released, as a store that
 * stops answering (a remote client retrying forever) holds them. */
function stalling(inner: SessionStore) {
  let held: (() => void)[] = [];
  const state = { reads: false, commits: false, lists: false };
  const hold = <T>(call: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      held.push(() => call().then(resolve, reject));
    });
  const store: SessionStore = {
    maxValueBytes: inner.maxValueBytes,
    get: (key) => state.reads ? hold(() => inner.get(key)) : inner.get(key),
    commit: (change) =>
      state.commits ? hold(() => inner.commit(change)) : inner.commit(change),
    list: (prefix) =>
      state.lists
        ? (async function* () {
          yield* await hold(() => Promise.resolve(inner.list(prefix)));
        })()
        : inner.list(prefix),
  };
  return {
    store,
    state,
    /** Lets every held call through (late, as a slow store answers). */
    release() {
      const calls = held;
      held = [];
      for (const call of calls) call();
    },
  };
}

for (const fixture of [...STORES, ...REDIS_STORES]) {
  Deno.test(`storeTimeout: a store that stops answering fails the request closed with 503 (${fixture.name})`, async (t) => {
    const { store: inner, close } = await fixture.open();
    const stalled = stalling(inner);
    const errors: unknown[] = [];
    let handled = 0;
    const app = withSession((req) => {
      handled++;
      const session = getSession<{ n: number }>(req);
      const url = new URL(req.url);
      if (url.pathname === "/inc") session.update("n", (n = 0) => n + 1);
      return new Response(String(session.get("n")));
    }, {
      store: stalled.store,
      storeTimeout: 300,
      onError(error) {
        errors.push(error);
        return new Response("unavailable", { status: 503 });
      },
    });
    const browser = new Browser(app);
    try {
      assert.equal(await browser.text("http://localhost/inc"), "1");

      await t.step("a read that stalls", async () => {
        stalled.state.reads = true;
        handled = 0;
        const response = await within(
          10_000,
          "the stalled read",
          browser.fetch("http://localhost/"),
        );
        assert.equal(response.status, 503);
        await response.body?.cancel();
        assert.equal(handled, 0, "the handler never ran without its session");
        assert.ok(errors.pop() instanceof SessionStoreTimeoutError);
        stalled.state.reads = false;
        stalled.release();
      });

      await t.step("a commit that stalls", async () => {
        stalled.state.commits = true;
        const response = await within(
          10_000,
          "the stalled commit",
          browser.fetch("http://localhost/inc"),
        );
        assert.equal(response.status, 503, 'never a false "saved"');
        await response.body?.cancel();
        const error = errors.pop();
        assert.ok(error instanceof SessionStoreTimeoutError);
        assert.equal(error.timeout, 300);
        stalled.state.commits = false;
        stalled.release(); // the late commit may land: the client was told "not saved"
      });

      await t.step("service resumes once the store answers", async () => {
        const n = Number(await browser.text("http://localhost/"));
        assert.ok(
          n === 1 || n === 2,
          `the count is 1 or 2 (the late commit), got ${n}`,
        );
        assert.equal(await browser.text("http://localhost/inc"), String(n + 1));
      });
    } finally {
      stalled.state.reads = stalled.state.commits = false;
      stalled.release();
      await close();
    }
  });
}

Deno.test("storeTimeout: out-of-range values are refused naming the option", async (t) => {
  for (
    const [value, type] of [
      [0, RangeError],
      [-1, RangeError],
      [600_001, RangeError],
      [NaN, TypeError],
      ["5s", TypeError],
    ] as const
  ) {
    await t.step(String(value), () => {
      assert.throws(
        () =>
          withSession(() => new Response(), {
            store: memoryStore(),
            storeTimeout: value as number,
          }),
        (error: Error) =>
          error instanceof type && /storeTimeout/.test(error.message),
      );
    });
  }
});

Deno.test("storeTimeout: a stalled call times out while fast calls go on around it, also after an idle spell", async () => {
  const inner = memoryStore();
  const stalled: { id?: string } = {};
  const never = new Promise<never>(() => {});
  const store: SessionStore = {
    maxValueBytes: inner.maxValueBytes,
    // Reads of the one stalled session never answer; all others do.
    get: (key) => key[1] === stalled.id ? never : inner.get(key),
    commit: (change) => inner.commit(change),
    list: (prefix) => inner.list(prefix),
  };
  const app = withSession((req) => {
    const session = getSession<{ n: number }>(req);
    return new Response(String(session.update("n", (n = 0) => n + 1)));
  }, {
    store,
    storeTimeout: 300,
    onError: () => new Response("unavailable", { status: 503 }),
  });
  const victim = new Browser(app);
  await victim.text("http://localhost/");
  const [, { value: token }] = [...victim.cookies][0]!;
  stalled.id = await sha256(token);
  const others = Array.from({ length: 8 }, () => new Browser(app));
  for (const round of ["busy", "after an idle spell"]) {
    if (round !== "busy") await new Promise((r) => setTimeout(r, 500));
    const stalled = within(
      10_000,
      `the stalled read (${round})`,
      victim.fetch("http://localhost/"),
    );
    // Fast requests keep answering while the stalled one waits.
    for (let i = 0; i < 5; i++) {
      for (const other of others) {
        const response = await other.fetch("http://localhost/");
        assert.equal(response.status, 200, round);
        await response.body?.cancel();
      }
    }
    const response = await stalled;
    assert.equal(response.status, 503, round);
    await response.body?.cancel();
  }
  assert.equal(await others[0]!.text("http://localhost/"), "11");
});

for (const fixture of [...STORES, REDIS_STORES[0]!]) {
  Deno.test(`storeTimeout: listSessions, revokeSession, revokeUserSessions and a login's maxSessionsPerUser fail within it when the store stops answering (${fixture.name})`, async (t) => {
    const { store: inner, close } = await fixture.open();
    const stalled = stalling(inner);
    const errors: unknown[] = [];
    const app = withSession(async (req) => {
      await getSession(req).login("ada");
      return new Response("in");
    }, {
      store: stalled.store,
      storeTimeout: 300,
      maxSessionsPerUser: 5,
      onError(error) {
        errors.push(error);
        return new Response("unavailable", { status: 503 });
      },
    });
    const timedOut = async (what: string, call: Promise<unknown>) => {
      await assert.rejects(
        within(10_000, what, call),
        (error: unknown) =>
          error instanceof SessionStoreTimeoutError && error.timeout === 300,
      );
    };
    const options = { storeTimeout: 300 };
    try {
      assert.equal(await new Browser(app).text("http://localhost/"), "in");
      const [session] = await listSessions(inner, "ada");
      assert.ok(session, "the login is listed");

      await t.step("a stalled index listing", async () => {
        stalled.state.lists = true;
        await timedOut(
          "listSessions",
          listSessions(stalled.store, "ada", options),
        );
        await timedOut(
          "revokeUserSessions",
          revokeUserSessions(stalled.store, "ada", options),
        );
        // The login commits, then its session limit reads the index.
        const response = await within(
          10_000,
          "a login",
          new Browser(app).fetch("http://localhost/"),
        );
        assert.equal(response.status, 503);
        await response.body?.cancel();
        assert.ok(errors.pop() instanceof SessionStoreTimeoutError);
        stalled.state.lists = false;
        stalled.release();
      });

      await t.step("a stalled read", async () => {
        stalled.state.reads = true;
        await timedOut(
          "listSessions",
          listSessions(stalled.store, "ada", options),
        );
        await timedOut(
          "revokeSession",
          revokeSession(stalled.store, "ada", session.id, options),
        );
        stalled.state.reads = false;
        stalled.release();
      });

      await t.step("a stalled commit", async () => {
        stalled.state.commits = true;
        await timedOut(
          "revokeUserSessions",
          revokeUserSessions(stalled.store, "ada", options),
        );
        stalled.state.commits = false;
        stalled.release(); // the late revoke may land
      });

      await t.step("they work again once the store answers", async () => {
        stalled.state.reads =
          stalled.state.commits =
          stalled.state.lists =
            false;
        stalled.release();
        await within(
          10_000,
          "revokeUserSessions",
          revokeUserSessions(stalled.store, "ada", options),
        );
        assert.deepEqual(
          await within(
            10_000,
            "listSessions",
            listSessions(stalled.store, "ada", options),
          ),
          [],
        );
      });
    } finally {
      stalled.state.reads =
        stalled.state.commits =
        stalled.state.lists =
          false;
      stalled.release();
      await close();
    }
  });
}

Deno.test("storeTimeout: the account functions refuse an out-of-range storeTimeout naming it", async () => {
  const store = memoryStore();
  for (
    const call of [
      () => listSessions(store, "ada", { storeTimeout: 0 }),
      () => revokeSession(store, "ada", "x", { storeTimeout: -1 }),
      () => revokeUserSessions(store, "ada", { storeTimeout: 600_001 }),
    ]
  ) {
    await assert.rejects(
      call(),
      (error: Error) =>
        error instanceof RangeError && /storeTimeout/.test(error.message),
    );
  }
  await assert.rejects(
    listSessions(store, "ada", { storeTimeout: "5s" as unknown as number }),
    TypeError,
  );
});

Deno.test("storeTimeout: requests answered while an earlier store call stalls are not kept in memory", async () => {
  // Every call of one storeTimeout waits in one deadline queue, oldest
  // first, and a settled call stays queued until the calls before it
  // settle. It must not keep its request's session alive meanwhile: one
  // stalled connection would otherwise hold the data of every request
  // answered during its storeTimeout.
  const mod = new URL("../mod.ts", import.meta.url).href;
  const script = `
    import { getSession, memoryStore, withSession } from ${JSON.stringify(mod)};
    const inner = memoryStore();
    let stall = false;
    let release = () => {};
    const stalled = new Promise((resolve) => release = () => resolve(null));
    // Public calls only: a store of another process, as Redis is.
    const store = {
      maxValueBytes: inner.maxValueBytes,
      get: (key) => stall ? (stall = false, stalled) : inner.get(key),
      commit: (change) => inner.commit(change),
      list: (prefix) => inner.list(prefix),
    };
    const refs = [];
    const app = withSession((req) => {
      const blob = { payload: "x".repeat(1000) };
      refs.push(new WeakRef(blob));
      getSession(req).set("blob", blob);
      return new Response("ok");
    }, { store, storeTimeout: 60_000 });
    const first = await app(new Request("http://localhost/"));
    const cookie = first.headers.get("set-cookie").split(";")[0];
    const ask = () => app(new Request("http://localhost/", { headers: { cookie } }));
    stall = true;
    const waiting = ask(); // its read stalls at the head of the queue
    for (let i = 0; i < 40; i++) {
      const response = await ask();
      if (response.status !== 200) throw new Error("status " + response.status);
    }
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // The first request's value and the last one's are the session's own
    // (still in the store's record); the others are garbage.
    console.log(refs.filter((ref) => ref.deref() !== undefined).length);
    release();
    await (await waiting).body?.cancel();
  `;
  const { code, stdout, stderr } = await runDeno(
    ["eval", "--quiet", "--ext=js", "--v8-flags=--expose-gc", script],
    30_000,
  );
  assert.equal(code, 0, stderr);
  const alive = Number(stdout.trim());
  assert.ok(
    alive <= 2,
    `${alive} of 41 requests' session values still in memory behind a stalled store call`,
  );
});
