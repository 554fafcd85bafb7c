// Session lifecycle: token renewal with a grace window for parallel
// requests, why a presented cookie gave no session, remember me, freshness
// of the login, and the limit of sessions per user.
import assert from "node:assert/strict";
import {
  getSession,
  listSessions,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../mod.ts";
import {
  Browser,
  parseSetCookie,
  sha256,
  type StoreFixture,
  STORES,
} from "./_helpers.ts";
import { POSTGRES_STORES } from "./_postgres.ts";
import {
  openNodeRedis,
  REDIS_CLUSTER_STORES,
  stopSharedCluster,
} from "./_redis.ts";
import { barrier } from "./conformance/_util.ts";

/** The Deno stores, redisStore on a real redis-server and on a real Redis
 * Cluster, and postgresStore on a real PostgreSQL. */
const ALL: StoreFixture[] = [
  ...STORES,
  {
    name: "redisStore(node-redis)",
    open: openNodeRedis,
  },
  REDIS_CLUSTER_STORES[0]!,
  POSTGRES_STORES[0]!,
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `/login` signs in as ada, `/` counts; every response tells what it saw. */
function counterApp(store: SessionStore, options: SessionOptions = {}) {
  return withSession(async (req) => {
    const session = getSession<{ n: number }>(req);
    if (new URL(req.url).pathname === "/login") await session.login("ada");
    else session.update("n", (n = 0) => n + 1);
    return Response.json({
      user: session.userId,
      n: session.get("n") ?? null,
      rejected: session.rejected,
    });
  }, { store, ...options });
}

/** The session tokens a response set. */
function issued(response: Response): string[] {
  return response.headers.getSetCookie().map(parseSetCookie)
    .filter((c) => c.name === "session" && c.value !== "")
    .map((c) => c.value);
}

for (const fixture of ALL) {
  Deno.test(`renewInterval: 20 parallel requests across a renewal all succeed and leave one session (${fixture.name})`, async () => {
    const { store, close } = await fixture.open();
    try {
      // cookieMaxAge: responses that save re-send their cookie; the old token
      // must never be among them.
      const app = counterApp(store, {
        renewInterval: 1000,
        cookieMaxAge: 3_600_000,
      });
      const browser = new Browser(app);
      await browser.fetch("http://localhost/login");
      const old = browser.get("session")!;
      await sleep(1300); // the token is now due for renewal
      const cookie = `session=${old}`;
      const responses = await Promise.all(
        Array.from(
          { length: 20 },
          () => app(new Request("http://localhost/", { headers: { cookie } })),
        ),
      );
      const bodies = await Promise.all(responses.map((r) => r.json()));
      assert.deepEqual(responses.map((r) => r.status), Array(20).fill(200));
      assert.ok(
        bodies.every((b) => b.user === "ada"),
        "no request lost the user",
      );
      const tokens = new Set(responses.flatMap(issued));
      assert.equal(tokens.size, 1, "exactly one new token issued");
      const [renewed] = tokens;
      assert.notEqual(renewed, old);
      assert.equal((await listSessions(store, "ada")).length, 1);

      const next = await app(
        new Request("http://localhost/", {
          headers: { cookie: `session=${renewed}` },
        }),
      );
      assert.deepEqual(await next.json(), {
        user: "ada",
        n: 21,
        rejected: null,
      }, "every parallel increment landed in the one session");
      // Within the grace window the old token still reaches the session,
      // and its response never hands the old token out again.
      const late = await app(
        new Request("http://localhost/", { headers: { cookie } }),
      );
      assert.deepEqual(await late.json(), {
        user: "ada",
        n: 22,
        rejected: null,
      });
      assert.deepEqual(issued(late), []);
      assert.equal((await listSessions(store, "ada")).length, 1);
    } finally {
      await close();
    }
  });

  Deno.test(`renewInterval: the old token is dead after renewGrace; without renewInterval a token is kept (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      await t.step(
        "after the grace window the old token gives no session",
        async () => {
          const app = counterApp(store, {
            renewInterval: 1000,
            renewGrace: 1000,
            expiredNotice: 5000,
          });
          const browser = new Browser(app);
          await browser.fetch("http://localhost/login");
          const old = browser.get("session")!;
          await sleep(1300);
          await browser.fetch("http://localhost/");
          assert.notEqual(browser.get("session"), old, "renewed");
          await sleep(1300);
          const res = await app(
            new Request("http://localhost/", {
              headers: { cookie: `session=${old}` },
            }),
          );
          const body = await res.json();
          assert.equal(body.user, null);
          assert.ok(
            body.rejected === "expired" || body.rejected === "unknown",
            `rejected: ${body.rejected}`,
          );
          // The browser's new token is untouched.
          assert.equal(
            (await browser.fetch("http://localhost/").then((r) => r.json()))
              .user,
            "ada",
          );
        },
      );
      await t.step("control: no renewInterval, no new token", async () => {
        const app = counterApp(store);
        const browser = new Browser(app);
        await browser.fetch("http://localhost/login");
        const token = browser.get("session");
        await sleep(1300);
        const res = await browser.fetch("http://localhost/");
        assert.deepEqual(issued(res), []);
        assert.equal(browser.get("session"), token);
      });
    } finally {
      await close();
    }
  });
}

for (const fixture of STORES) {
  Deno.test(`session.rejected says why a presented cookie gave no session (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    const seen = (
      app: (r: Request) => Promise<Response>,
      url: string,
      cookie?: string,
    ) =>
      app(new Request(url, { headers: cookie ? { cookie } : {} })).then((r) =>
        r.json()
      );
    try {
      const app = counterApp(store);
      await t.step("no cookie: null", async () => {
        assert.equal((await seen(app, "http://localhost/")).rejected, null);
      });
      await t.step("a live session: null", async () => {
        const browser = new Browser(app);
        await browser.fetch("http://localhost/");
        assert.equal(
          (await browser.fetch("http://localhost/").then((r) => r.json()))
            .rejected,
          null,
        );
      });
      await t.step("a token no session has: unknown", async () => {
        const token = "A".repeat(43);
        assert.equal(
          (await seen(app, "http://localhost/", `session=${token}`)).rejected,
          "unknown",
        );
      });
      await t.step("a destroyed session: unknown", async () => {
        const browser = new Browser(app);
        await browser.fetch("http://localhost/");
        const token = browser.get("session")!;
        await withSession(
          (req) => getSession(req).destroy().then(() => new Response()),
          { store },
        )(
          new Request("http://localhost/", {
            headers: { cookie: `session=${token}` },
          }),
        );
        assert.equal(
          (await seen(app, "http://localhost/", `session=${token}`)).rejected,
          "unknown",
        );
      });
      await t.step("a value that is not a token: malformed", async () => {
        assert.equal(
          (await seen(app, "http://localhost/", "session=nope")).rejected,
          "malformed",
        );
      });
      await t.step("two cookies of the name: duplicate", async () => {
        const cookie = `session=${"A".repeat(43)}; session=${"B".repeat(43)}`;
        assert.equal(
          (await seen(app, "http://localhost/", cookie)).rejected,
          "duplicate",
        );
      });
      await t.step(
        "a plain-HTTP session over HTTPS: wrong-channel",
        async () => {
          const browser = new Browser(app);
          await browser.fetch("http://localhost/");
          const token = browser.get("session")!;
          assert.equal(
            (await seen(app, "https://localhost/", `session=${token}`))
              .rejected,
            "wrong-channel",
          );
        },
      );
      await t.step(
        "an HTTPS session's token over plain HTTP: wrong-channel",
        async () => {
          const browser = new Browser(app);
          await browser.fetch("https://localhost/");
          const token = browser.get("__Host-session")!;
          assert.equal(
            (await seen(app, "http://localhost/", `session=${token}`)).rejected,
            "wrong-channel",
          );
        },
      );
      await t.step(
        "a session past its idle timeout, within expiredNotice: expired, then unknown",
        async () => {
          const short = counterApp(store, {
            idleTimeout: 600,
            absoluteTimeout: 60_000,
            expiredNotice: 600,
            allowShortTimeouts: true,
          });
          const browser = new Browser(short);
          await browser.fetch("http://localhost/");
          const token = browser.get("session")!;
          await sleep(800);
          const first = await seen(
            short,
            "http://localhost/",
            `session=${token}`,
          );
          assert.deepEqual(
            [first.rejected, first.n],
            ["expired", 1],
            "a new session starts",
          );
          // The first request that saw it removed it.
          const again = await seen(
            short,
            "http://localhost/",
            `session=${token}`,
          );
          assert.equal(again.rejected, "unknown");
        },
      );
    } finally {
      close();
    }
  });
}

for (const fixture of ALL) {
  Deno.test(`login(user, metadata, { remember }): a persistent cookie and the session's own lifetime, past the global timeouts (${fixture.name})`, async () => {
    const { store, close } = await fixture.open();
    try {
      const app = withSession(async (req) => {
        const session = getSession(req);
        const url = new URL(req.url);
        if (url.pathname === "/remember") {
          await session.login("ada", { device: "laptop" }, { remember: true });
        } else if (url.pathname === "/login") await session.login("bob");
        return new Response(session.userId ?? "nobody");
      }, {
        store,
        idleTimeout: 1000,
        absoluteTimeout: 1500,
        rememberFor: 6000,
        allowShortTimeouts: true,
      });
      const remembered = new Browser(app);
      const plain = new Browser(app);
      const kept = await remembered.fetch("http://localhost/remember");
      const [cookie] = kept.headers.getSetCookie().map(parseSetCookie);
      const maxAge = Number(cookie?.attributes.get("max-age"));
      assert.ok(maxAge >= 5 && maxAge <= 6, `Max-Age ${maxAge}`);
      const other = await plain.fetch("http://localhost/login");
      const [session] = other.headers.getSetCookie().map(parseSetCookie);
      assert.equal(session?.attributes.has("max-age"), false);
      // Past the absolute timeout, with no request in between (past the
      // idle timeout too).
      await sleep(2000);
      assert.equal(await remembered.text("http://localhost/"), "ada");
      assert.equal(await plain.text("http://localhost/"), "nobody");
      // listSessions needs no timeouts: each record carries its own.
      assert.deepEqual(
        (await listSessions(store, "ada")).map((s) => s.metadata),
        [{ device: "laptop" }],
      );
      assert.deepEqual(await listSessions(store, "bob"), []);
    } finally {
      await close();
    }
  });
}

for (const fixture of STORES) {
  Deno.test(`login(user, metadata, { maxAge }) and its checks (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      await t.step(
        "maxAge ends the session at its own time, before the global ones",
        async () => {
          const app = withSession(async (req) => {
            const session = getSession(req);
            if (new URL(req.url).pathname === "/login") {
              await session.login("ada", undefined, { maxAge: 800 });
            }
            return new Response(session.userId ?? "nobody");
          }, { store, allowShortTimeouts: true });
          const browser = new Browser(app);
          const res = await browser.fetch("http://localhost/login");
          assert.equal(
            parseSetCookie(res.headers.getSetCookie()[0]!).attributes.get(
              "max-age",
            ),
            "1",
          );
          assert.equal(await browser.text("http://localhost/"), "ada");
          await sleep(1100);
          assert.equal(await browser.text("http://localhost/"), "nobody");
        },
      );
      await t.step(
        "bad options are a TypeError or RangeError naming the value",
        async () => {
          const app = withSession(async (req) => {
            const session = getSession(req);
            const which = new URL(req.url).searchParams.get("o")!;
            try {
              await session.login("ada", undefined, JSON.parse(which));
              return new Response("accepted");
            } catch (error) {
              return new Response(
                `${(error as Error).name}: ${(error as Error).message}`,
              );
            }
          }, { store });
          const tried = (o: unknown) =>
            app(
              new Request(
                `http://localhost/?o=${encodeURIComponent(JSON.stringify(o))}`,
              ),
            ).then((r) => r.text());
          assert.match(
            await tried({ maxAge: 10 }),
            /^RangeError: .*maxAge is 10 ms/,
          );
          assert.match(
            await tried({ remember: "yes" }),
            /^TypeError: .*remember must be true or false, got yes/,
          );
          assert.match(
            await tried("x"),
            /^TypeError: login\(\) options must be an object/,
          );
          assert.equal(await tried({}), "accepted");
        },
      );
    } finally {
      close();
    }
  });

  Deno.test(`authenticatedAt, authenticatedWithin() and reauthenticate() (${fixture.name})`, async () => {
    const { store, close } = await fixture.open();
    try {
      const app = withSession(async (req) => {
        const session = getSession<{ cart: string[] }>(req);
        const path = new URL(req.url).pathname;
        if (path === "/login") {
          await session.login("ada");
          session.set("cart", ["book"]);
        } else if (path === "/confirm") await session.reauthenticate();
        return Response.json({
          user: session.userId,
          at: session.authenticatedAt,
          fresh: session.authenticatedWithin(500),
          cart: session.get("cart") ?? null,
        });
      }, { store });
      const browser = new Browser(app);
      const anonymous = await browser.fetch("http://localhost/").then((r) =>
        r.json()
      );
      assert.deepEqual(anonymous, {
        user: null,
        at: null,
        fresh: false,
        cart: null,
      });
      const before = Date.now();
      const login = await browser.fetch("http://localhost/login").then((r) =>
        r.json()
      );
      assert.ok(
        login.at >= before && login.at <= Date.now(),
        "the login's time",
      );
      assert.equal(login.fresh, true);
      await sleep(700);
      const later = await browser.fetch("http://localhost/").then((r) =>
        r.json()
      );
      assert.deepEqual([later.at, later.fresh], [login.at, false]);
      const token = browser.get("session");
      const confirmed = await browser.fetch("http://localhost/confirm").then((
        r,
      ) => r.json());
      assert.notEqual(browser.get("session"), token, "a new token");
      assert.deepEqual([confirmed.user, confirmed.fresh, confirmed.cart], [
        "ada",
        true,
        ["book"],
      ]);
      assert.ok(confirmed.at > login.at);
      const next = await browser.fetch("http://localhost/").then((r) =>
        r.json()
      );
      assert.deepEqual(next, confirmed, "stored");
      // Without a user there is nothing to re-authenticate.
      const refused = await withSession(
        (req) =>
          getSession(req).reauthenticate().then(
            () => new Response("re-authenticated"),
            (error) => new Response(`${error.name}: ${error.message}`),
          ),
        { store },
      )(new Request("http://localhost/"));
      assert.equal(
        await refused.text(),
        "TypeError: reauthenticate() needs a signed-in user: call login() instead",
      );
    } finally {
      close();
    }
  });
}

for (const fixture of ALL) {
  Deno.test(`maxSessionsPerUser: a login beyond it ends the user's oldest sessions (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const app = withSession(async (req) => {
        const session = getSession(req);
        const user = new URL(req.url).searchParams.get("login");
        if (user !== null) await session.login(user);
        return new Response(session.userId ?? "nobody");
      }, { store, maxSessionsPerUser: 3 });
      await t.step(
        "3 of 5 logins, one after another: the 3 newest remain",
        async () => {
          const browsers = Array.from({ length: 5 }, () => new Browser(app));
          const ids: string[] = [];
          for (const browser of browsers) {
            await browser.fetch("http://localhost/?login=ada");
            ids.push(await sha256(browser.get("session")!));
            await sleep(5); // distinct creation times
          }
          const listed = (await listSessions(store, "ada")).map((s) => s.id);
          assert.deepEqual(listed, ids.slice(2).reverse());
          const who = await Promise.all(
            browsers.map((b) => b.text("http://localhost/")),
          );
          assert.deepEqual(who, ["nobody", "nobody", "ada", "ada", "ada"]);
        },
      );
      await t.step(
        "6 parallel logins: 3 sessions afterwards, each signed in",
        async () => {
          const browsers = Array.from({ length: 6 }, () => new Browser(app));
          const responses = await Promise.all(
            browsers.map((b) => b.fetch("http://localhost/?login=bob")),
          );
          assert.ok(responses.every((r) => r.status === 200));
          const listed = await listSessions(store, "bob");
          assert.equal(listed.length, 3);
          const who = await Promise.all(
            browsers.map((b) => b.text("http://localhost/")),
          );
          assert.equal(who.filter((w) => w === "bob").length, 3);
        },
      );
      await t.step("other users are not touched", async () => {
        assert.equal((await listSessions(store, "ada")).length, 3);
      });
      await t.step(
        "6 logins that all commit before any looks: still the 3 newest",
        async () => {
          // Each login reads the user's index after its commit; hold every
          // read until all six have committed, so each sees all of them.
          const arrive = barrier(6, 10_000);
          const gated: SessionStore = {
            maxValueBytes: store.maxValueBytes,
            get: (key) => store.get(key),
            commit: (change) => store.commit(change),
            async *list(prefix) {
              if (prefix[0] === "user" && prefix[1] === "eve") await arrive();
              yield* store.list(prefix);
            },
          };
          const racing = withSession(async (req) => {
            await getSession(req).login("eve");
            return new Response(getSession(req).id);
          }, { store: gated, maxSessionsPerUser: 3 });
          const ids = await Promise.all(
            Array.from(
              { length: 6 },
              () =>
                racing(new Request("http://localhost/")).then((r) => r.text()),
            ),
          );
          let remaining = 0;
          for (const id of ids) {
            if (await store.get(["session", id]) !== null) remaining++;
          }
          assert.equal(remaining, 3, "three sessions remain");
          assert.equal((await listSessions(store, "eve")).length, 3);
        },
      );
    } finally {
      await close();
    }
  });
}

// Last: the Redis Cluster the cluster fixtures started (tests/_redis.ts).
Deno.test("Redis Cluster fixtures: stop the cluster", stopSharedCluster);
