// onEvent: typed lifecycle and audit events, without tokens, from a
// listener that can neither break nor slow a request.
import assert from "node:assert/strict";
import {
  getSession,
  revokeSession,
  revokeUserSessions,
  type SessionEvent,
  type SessionStore,
  withSession,
} from "../mod.ts";
import { Browser, faulty, sleep, STORES } from "./_helpers.ts";
import { REDIS_STORES } from "./_redis.ts";

/** Collects events; `types()` lists their types in order. */
function recorder() {
  const events: SessionEvent[] = [];
  return {
    events,
    onEvent: (event: SessionEvent) => {
      events.push(event);
    },
    types: () => events.map((e) => e.type),
    take() {
      const taken = events.map((e) => e.type);
      events.length = 0;
      return taken;
    },
  };
}

/** An app whose path says what to do with the session. */
function lifecycleApp(store: SessionStore, onEvent: (e: SessionEvent) => void) {
  return withSession(async (req) => {
    const session = getSession(req);
    const path = new URL(req.url).pathname;
    if (path === "/set") session.set("theme", "dark");
    if (path === "/login") await session.login("ada");
    if (path === "/regenerate") await session.regenerate();
    if (path === "/logout") await session.logout();
    if (path === "/destroy") await session.destroy();
    return Response.json({ id: session.id });
  }, { store, onEvent });
}

for (const fixture of [...STORES, REDIS_STORES[0]!]) {
  Deno.test(`${fixture.name}: onEvent tells created, login, rotated, logout and destroyed, with ids and never the token`, async () => {
    const { store, close } = await fixture.open();
    const log = recorder();
    const app = lifecycleApp(store, log.onEvent);
    const jar = new Browser(app);
    const tokens: string[] = [];
    const go = async (path: string) => {
      const res = await jar.fetch(`http://localhost${path}?secret=q`);
      const token = jar.get("session");
      if (token !== undefined) tokens.push(token);
      return (await res.json()).id as string | null;
    };
    try {
      assert.equal(await go("/set"), null, "stored after the handler");
      assert.deepEqual(log.types(), ["created"]);
      const first = "sessionId" in log.events[0]! && log.events[0]!.sessionId;
      assert.match(String(first), /^[\w-]{43}$/);
      assert.deepEqual(log.events[0], {
        type: "created",
        sessionId: first,
        userId: null,
        time: log.events[0]!.time,
        method: "GET",
        path: "/set",
      });
      const signedIn = await go("/login");
      const rotated = await go("/regenerate");
      await go("/logout"); // keeps "language" only: nothing, so it ends
      await go("/set");
      const created = "sessionId" in log.events[4]! &&
        log.events[4]!.sessionId;
      await go("/destroy");
      assert.deepEqual(log.types(), [
        "created",
        "login",
        "rotated",
        "logout",
        "created",
        "destroyed",
      ]);
      const [, login, regen, logout, , destroyed] = log.events;
      assert.deepEqual(
        [login, regen, logout].map((e) =>
          e!.type === "login" || e!.type === "rotated" || e!.type === "logout"
            ? [e!.previousSessionId, e!.sessionId, e!.userId]
            : null
        ),
        [[first, signedIn, "ada"], [signedIn, rotated, "ada"], [
          rotated,
          null,
          "ada",
        ]],
      );
      assert.equal(
        destroyed!.type === "destroyed" && destroyed!.sessionId,
        created,
      );
      const text = JSON.stringify(log.events);
      assert.ok(tokens.length >= 4);
      for (const token of tokens) assert.ok(!text.includes(token));
      assert.ok(!text.includes("secret"), "no query string in events");
    } finally {
      await close();
    }
  });

  Deno.test(`${fixture.name}: onEvent tells an expired session seen on read, and revocations`, async () => {
    const { store, close } = await fixture.open();
    const log = recorder();
    const handler = async (req: Request) => {
      const session = getSession(req);
      const url = new URL(req.url);
      if (url.pathname === "/login") {
        await session.login(url.searchParams.get("user") ?? "ada");
      }
      return Response.json({ id: session.id });
    };
    const app = withSession(handler, { store, onEvent: log.onEvent });
    // A part of the app with a shorter idle timeout (an admin area) sees
    // the session expired while the store still holds it.
    const strict = withSession(handler, {
      store,
      onEvent: log.onEvent,
      idleTimeout: 300,
      allowShortTimeouts: true,
    });
    try {
      const jar = new Browser(app);
      const id = (await (await jar.fetch("http://localhost/login")).json()).id;
      log.take();
      await sleep(700);
      await jar.clone(strict).fetch("http://localhost/");
      assert.deepEqual(
        log.events.map((
          e,
        ) => [
          e.type,
          "sessionId" in e && e.sessionId,
          "userId" in e && e.userId,
        ]),
        [["expired", id, "ada"]],
      );
      log.take();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          (await (await new Browser(app).fetch(
            "http://localhost/login?user=bo",
          ))
            .json()).id,
        );
      }
      log.take();
      assert.equal(
        await revokeSession(store, "bo", ids[0]!, { onEvent: log.onEvent }),
        true,
      );
      assert.equal(
        await revokeUserSessions(store, "bo", {
          except: ids[2]!,
          onEvent: log.onEvent,
        }),
        1,
      );
      assert.deepEqual(
        log.events.map((
          e,
        ) => [e.type, "sessionId" in e && e.sessionId, e.method]),
        [["revoked", ids[0], null], ["revoked", ids[1], null]],
      );
      await assert.rejects(
        revokeSession(store, "bo", ids[2]!, { onEvent: 1 as never }),
        TypeError,
      );
      assert.equal(
        await revokeUserSessions(store, "bo"),
        1,
        "the refused call ended nothing",
      );
    } finally {
      await close();
    }
  });
}

Deno.test("onEvent tells conflicts retried and a save that gave up", async () => {
  const { store: inner, close } = await STORES[0]!.open();
  const store = faulty(inner);
  const log = recorder();
  const app = lifecycleApp(store, log.onEvent);
  const tuned = withSession((req) => {
    getSession(req).set("n", 1);
    return new Response("saved");
  }, {
    store,
    onEvent: log.onEvent,
    maxAttempts: 3,
    onError: () => new Response("busy", { status: 503 }),
  });
  try {
    const jar = new Browser(app);
    await jar.fetch("http://localhost/set");
    const id = "sessionId" in log.events[0]! && log.events[0]!.sessionId;
    log.take();
    // Two lost compare-and-swaps, then the save goes through.
    let conflicts = 2;
    store.onCommit = () => conflicts-- > 0 ? "conflict" : undefined;
    const ok = await new Browser(tuned).fetch("http://localhost/", {
      headers: { cookie: jar.header("http://localhost/")! },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(
      log.events.map((e) => [e.type, "attempt" in e && e.attempt]),
      [["conflict-retried", 1], ["conflict-retried", 2]],
    );
    log.take();
    store.onCommit = () => "conflict";
    const failed = await new Browser(tuned).fetch("http://localhost/", {
      headers: { cookie: jar.header("http://localhost/")! },
    });
    assert.equal(failed.status, 503);
    await failed.body?.cancel();
    assert.deepEqual(log.types(), [
      "conflict-retried",
      "conflict-retried",
      "conflict-retried",
      "save-gave-up",
    ]);
    const gaveUp = log.events[3]!;
    assert.ok(gaveUp.type === "save-gave-up");
    assert.deepEqual([gaveUp.sessionId, gaveUp.attempts, gaveUp.error], [
      id,
      3,
      "SessionConflictError",
    ]);
  } finally {
    store.onCommit = undefined;
    await close();
  }
});

Deno.test("onEvent tells CSRF refusals and malformed or duplicate session cookies", async (t) => {
  const { store, close } = await STORES[1]!.open();
  const log = recorder();
  const app = withSession(() => new Response("ok"), {
    store,
    onEvent: log.onEvent,
    csrf: true,
  });
  try {
    await t.step("a cross-site POST", async () => {
      const res = await app(
        new Request("http://localhost/form", {
          method: "POST",
          headers: { "sec-fetch-site": "cross-site" },
        }),
      );
      assert.equal(res.status, 403);
      await res.body?.cancel();
      assert.deepEqual(
        log.events.map((e) => e.type === "csrf-refused" && [e.reason, e.path]),
        [["cross-site", "/form"]],
      );
      log.take();
    });
    for (
      const [name, cookie, type] of [
        ["a malformed cookie", "session=not-a-token", "cookie-malformed"],
        [
          "a duplicate cookie",
          `session=${"a".repeat(43)}; session=${"b".repeat(43)}`,
          "cookie-duplicate",
        ],
      ] as const
    ) {
      await t.step(name, async () => {
        const res = await app(
          new Request("http://localhost/", { headers: { cookie } }),
        );
        assert.equal(res.status, 200);
        await res.body?.cancel();
        assert.deepEqual(
          log.events.map((e) => "cookieName" in e && [e.type, e.cookieName]),
          [[type, "session"]],
        );
        assert.ok(!JSON.stringify(log.events).includes("a".repeat(43)));
        log.take();
      });
    }
  } finally {
    await close();
  }
});

Deno.test("a throwing, rejecting or never-settling onEvent listener breaks no request and is reported once", async () => {
  const { store, close } = await STORES[1]!.open();
  const reports: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => reports.push(args);
  try {
    for (
      const [name, onEvent] of [
        ["throws", () => {
          throw new Error("listener down");
        }],
        ["rejects", () => Promise.reject(new Error("listener down"))],
        ["never settles", () => new Promise(() => {})],
      ] as const
    ) {
      reports.length = 0;
      const app = lifecycleApp(store, onEvent);
      const jar = new Browser(app);
      for (const path of ["/set", "/login", "/logout"]) {
        const res = await jar.fetch(`http://localhost${path}`);
        assert.equal(res.status, 200, `${name}: ${path}`);
        await res.body?.cancel();
      }
      await sleep(20);
      assert.equal(
        reports.length,
        name === "never settles" ? 0 : 1,
        `${name}: reported once`,
      );
    }
  } finally {
    console.error = original;
    await close();
  }
});

Deno.test("onEvent must be a function", () => {
  assert.throws(
    () => withSession(() => new Response(), { onEvent: "log" as never }),
    (error: unknown) =>
      error instanceof TypeError &&
      /onEvent must be a function, got log/.test(error.message),
  );
});
