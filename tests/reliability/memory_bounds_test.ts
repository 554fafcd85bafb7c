// memoryStore() under a stream of abandoned sessions: expired entries are
// collected without a timer, so the map stays bounded by the sessions
// written within one idle timeout.
import assert from "node:assert/strict";
import { memoryStore, type SessionStore } from "../../mod.ts";
import {
  allKeys,
  raceApp,
  readSession,
  request,
  sessionCookie,
} from "./_support.ts";
import { gate, runDeno, sleep } from "../_helpers.ts";

const IDLE = 100; // ms of the fake clock
const STEP = 1; // fake ms per request
const SESSIONS = 10_000;

/**
 * The number of entries the store holds, dead or alive: with the clock set
 * back to before the first write, nothing looks expired, so `list` yields
 * (and collects) nothing but what is really still in the map.
 */
async function held(
  store: SessionStore,
  clock: { now: number },
  start: number,
): Promise<number> {
  const now = clock.now;
  clock.now = start;
  try {
    return (await allKeys(store)).length;
  } finally {
    clock.now = now;
  }
}

Deno.test(`memory bounds: ${SESSIONS} abandoned sessions keep memoryStore() within 4/3 of the sessions of one idle timeout`, async () => {
  const realNow = Date.now;
  const start = realNow();
  const clock = { now: start };
  Date.now = () => clock.now;
  try {
    const store = memoryStore();
    const app = raceApp(store, undefined, {
      idleTimeout: IDLE,
      allowShortTimeouts: true,
    });
    const live = IDLE / STEP; // sessions written within one idle timeout
    let peak = 0;
    for (let i = 0; i < SESSIONS; i++) {
      const response = await app(request(`/set?k=x&v=${i}`));
      assert.equal(response.status, 200);
      clock.now += STEP;
      if (i % 97 === 0) peak = Math.max(peak, await held(store, clock, start));
    }
    peak = Math.max(peak, await held(store, clock, start));
    console.log(
      `  ${SESSIONS} abandoned sessions, ${live} written per idle timeout: ` +
        `at most ${peak} entries held`,
    );
    assert.ok(peak >= live, "the measure sees the live sessions");
    assert.ok(
      peak <= Math.ceil(4 / 3 * live) + 4,
      `held ${peak} entries, over 4/3 × ${live} + 4 (the documented bound)`,
    );
  } finally {
    Date.now = realNow;
  }
});

Deno.test("memory bounds: memoryStore() keeps no timer that holds the process open", async () => {
  const mod = new URL("../../mod.ts", import.meta.url).href;
  const script = `
    import { getSession, memoryStore, withSession } from ${JSON.stringify(mod)};
    const app = withSession((req) => {
      getSession(req).set("x", 1);
      return new Response("ok");
    }, { store: memoryStore(), idleTimeout: 3_600_000 });
    for (let i = 0; i < 20; i++) await app(new Request("http://localhost/"));
    console.log("done");
  `;
  const { code, signal, stdout, stderr } = await runDeno(
    ["eval", "--quiet", "--ext=ts", script],
    10_000,
  );
  assert.equal(signal, null, "the process exited on its own (not killed)");
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), "done");
});

Deno.test("memory bounds: a flood of anonymous sessions 25 times past maxEntries keeps the store at its bound and every signed-in session", async () => {
  const MAX = 2_000;
  const FLOOD = 50_000;
  const store = memoryStore({ maxEntries: MAX });
  const app = raceApp(store);
  const users: string[] = [];
  for (let i = 0; i < 20; i++) {
    const cookie = sessionCookie(await app(request(`/login?u=user${i}`)))!;
    const after = await app(request("/set?k=cart&v=kept", cookie));
    await after.body?.cancel();
    users.push(cookie);
  }
  const rssBefore = Deno.memoryUsage().rss;
  let peak = 0;
  for (let i = 0; i < FLOOD; i++) {
    const response = await app(request(`/set?k=x&v=${i}`));
    assert.equal(response.status, 200, `flood request ${i}`);
    await response.body?.cancel();
    if (i % 1000 === 0) peak = Math.max(peak, (await allKeys(store)).length);
  }
  peak = Math.max(peak, (await allKeys(store)).length);
  const grown = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
  console.log(
    `  ${FLOOD} anonymous sessions into maxEntries ${MAX}: at most ${peak} entries, RSS grew ${
      grown.toFixed(1)
    } MiB`,
  );
  assert.ok(peak <= MAX, `${peak} entries held, over maxEntries ${MAX}`);
  assert.ok(peak >= MAX - 1, "the flood filled the store to its bound");
  for (const [i, cookie] of users.entries()) {
    const session = await readSession(app, cookie);
    assert.equal(
      session.user,
      `user${i}`,
      "signed-in sessions are never evicted",
    );
    assert.deepEqual(session.values, { cart: "kept" });
  }
});

Deno.test("memory bounds: a memoryStore() full of signed-in sessions refuses a new one with 503 and loses nothing", async () => {
  const store = memoryStore({ maxEntries: 10 });
  const app = raceApp(store, undefined, {
    onError: () => new Response("full", { status: 503 }),
  });
  const users: string[] = [];
  // Each login holds two entries: the session and its index entry.
  for (let i = 0; i < 5; i++) {
    users.push(sessionCookie(await app(request(`/login?u=u${i}`)))!);
  }
  const refused = await app(request("/set?k=a&v=1"));
  assert.equal(refused.status, 503);
  assert.equal(sessionCookie(refused), undefined, "no cookie for nothing");
  const login = await app(request("/login?u=late"));
  assert.equal(login.status, 503);
  for (const [i, cookie] of users.entries()) {
    assert.equal((await readSession(app, cookie)).user, `u${i}`);
  }
  // Room again after a sign-out.
  await (await app(request("/destroy", users[0]))).body?.cancel();
  const admitted = await app(request("/set?k=a&v=1"));
  assert.equal(admitted.status, 200);
  await admitted.body?.cancel();
});

Deno.test("memory bounds: a memoryStore() filled by a login flood recovers by itself once those sessions expire", async (t) => {
  for (
    const [what, idleTimeout, absoluteTimeout] of [
      ["sessions past their absolute timeout", 300, 600],
      [
        "sessions past their idle timeout, index entries still young",
        200,
        60_000,
      ],
    ] as const
  ) {
    await t.step(what, async () => {
      const store = memoryStore({ maxEntries: 100 });
      const app = raceApp(store, undefined, {
        idleTimeout,
        absoluteTimeout,
        allowShortTimeouts: true,
        onError: () => new Response("full", { status: 503 }),
      });
      let refused = 0;
      for (let i = 0; i < 80; i++) {
        const response = await app(request("/login?u=attacker"));
        await response.body?.cancel();
        if (response.status === 503) refused++;
      }
      assert.ok(refused > 0, "the flood filled the store");
      await sleep(Math.min(idleTimeout, absoluteTimeout) + 150);
      let admitted = 0;
      let first: string | undefined;
      // 90 of the 100 entries: only if the flood left nothing behind,
      // not even index entries whose sessions idled out.
      for (let i = 0; i < 90; i++) {
        const response = await app(request(`/set?k=a&v=${i}`));
        await response.body?.cancel();
        if (response.status === 200) admitted++;
        first ??= sessionCookie(response);
      }
      const login = await app(request("/login?u=ada"));
      await login.body?.cancel();
      assert.equal(admitted, 90, "new visitors get sessions again");
      assert.equal(login.status, 200, "and users can sign in");
      assert.deepEqual(
        (await readSession(app, first)).values,
        { a: "0" },
        "all 90 fit: none of them was evicted",
      );
      assert.ok((await allKeys(store)).length <= 100);
    });
  }
});

Deno.test("memory bounds: a session a request is using is evicted last, so its save is not lost to a flood", async () => {
  const store = memoryStore({ maxEntries: 40 });
  const held = gate();
  let reached = gate();
  const app = raceApp(store, async (path) => {
    if (path === "/inc") {
      reached.open();
      await held.promise;
    }
  });
  const victim = sessionCookie(await app(request("/set?k=cart&v=1")))!;
  for (let i = 0; i < 30; i++) {
    await (await app(request(`/set?k=x&v=${i}`))).body?.cancel();
  }
  reached = gate();
  const inFlight = app(request("/inc", victim));
  await reached.promise;
  // 20 more sessions while the victim's request runs: 11 must go.
  for (let i = 0; i < 20; i++) {
    const response = await app(request(`/set?k=y&v=${i}`));
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  held.open();
  assert.equal(await (await inFlight).text(), "1");
  assert.deepEqual(
    (await readSession(app, victim)).values,
    { cart: "1", n: 1 },
    "the victim's session and its new value are there",
  );
});

Deno.test("memory bounds: a commit rewriting an entry that has expired counts it as new, so memoryStore() never holds more than maxEntries", async () => {
  const store = memoryStore({ maxEntries: 2 });
  const value = new Uint8Array([1]);
  const put = (...keys: string[][]) =>
    store.commit({
      checks: [],
      sets: keys.map((key) => ({ key, value, expireIn: 60_000 })),
      deletes: [],
    });
  await store.commit({
    checks: [],
    sets: [{ key: ["k", "a"], value, expireIn: 30 }],
    deletes: [],
  });
  await put(["k", "b"]);
  await sleep(60); // "a" has expired; it is still in the map
  await put(["k", "a"], ["k", "c"]);
  const live: string[] = [];
  for await (const entry of store.list([])) live.push(entry.key.join("/"));
  assert.ok(
    live.length <= 2,
    `maxEntries 2, but ${live.length} live entries: ${live.join(", ")}`,
  );
  assert.deepEqual(live.filter((k) => k !== "k/b"), ["k/a", "k/c"]);
});
