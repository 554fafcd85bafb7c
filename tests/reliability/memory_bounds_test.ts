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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  try {
    const { code, signal, stdout, stderr } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(signal, null, "the process exited on its own (not killed)");
    assert.equal(code, 0, err);
    assert.equal(new TextDecoder().decode(stdout).trim(), "done");
  } finally {
    clearTimeout(killer);
  }
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
