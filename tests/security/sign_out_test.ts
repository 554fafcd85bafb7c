// Attacker's checklist, part 8: signing out must reach every session and
// leave nothing behind — a session kept busy for longer than idleTimeout,
// messages meant for the signed-in user, the browser's other cookies.
import assert from "node:assert/strict";
import {
  getSession,
  listSessions,
  revokeUserSessions,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { Browser, counting, sleep, STORES } from "../_helpers.ts";

const IDLE = 500;
const ABSOLUTE = 20_000;

/** /login?u=, /logout, /destroy, /regen, /flash?m=, /take, and / to read. */
function app(store: SessionStore, extra: SessionOptions = {}) {
  return withSession(async (req) => {
    const session = getSession<{ n: number }>(req);
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/login":
        await session.login(url.searchParams.get("u")!);
        break;
      case "/logout":
        await session.logout();
        break;
      case "/destroy":
        await session.destroy();
        break;
      case "/regen":
        await session.regenerate();
        break;
      case "/flash":
        session.flash("message", url.searchParams.get("m"));
        break;
      case "/take":
        return Response.json({ message: session.takeFlash("message") ?? null });
      case "/set":
        session.set("n", 1);
        break;
    }
    return Response.json({ user: session.userId, id: session.id });
  }, { store, ...extra });
}

for (const fixture of STORES) {
  Deno.test(`revokeUserSessions() ends a session kept active past idleTimeout, and listSessions() shows it (${fixture.name})`, async () => {
    const { store: inner, close } = await fixture.open();
    try {
      const store = counting(inner);
      const timeouts = {
        idleTimeout: IDLE,
        absoluteTimeout: ABSOLUTE,
        touchInterval: 50,
      };
      const handler = app(store, { ...timeouts, allowShortTimeouts: true });
      const attacker = new Browser(handler);
      await attacker.fetch("http://localhost/login?u=ada");
      // Deno KV collects expired keys lazily, so say it directly too: the
      // index entry is kept until the session's hard end.
      const index = store.commits.flatMap((c) => c.sets)
        .filter((set) => set.key[0] === "user");
      assert.ok(index.length >= 1, "the login wrote the index entry");
      for (const set of index) {
        assert.ok(
          set.expireIn! > ABSOLUTE - 5_000,
          `index entry kept for ${set.expireIn} ms`,
        );
      }
      // Busy for three idle periods: reads only, refreshed by touches.
      const until = Date.now() + 3 * IDLE + 100;
      let id: string | null = null;
      while (Date.now() < until) {
        const seen = await (await attacker.fetch("http://localhost/")).json();
        assert.equal(seen.user, "ada", "the busy session stays signed in");
        id = seen.id;
        await sleep(IDLE / 4);
      }
      const listed = await listSessions(store, "ada", timeouts);
      assert.deepEqual(
        listed.map((s) => s.id),
        [id],
        "the devices page shows the busy session",
      );
      assert.equal(await revokeUserSessions(store, "ada"), 1);
      const after = await (await attacker.fetch("http://localhost/")).json();
      assert.equal(after.user, null, "sign out everywhere reached it");
      assert.deepEqual(await listSessions(store, "ada", timeouts), []);
    } finally {
      close();
    }
  });

  Deno.test(`a session still busy after a redeploy with a longer absoluteTimeout stays in the index (${fixture.name})`, async () => {
    const { store: inner, close } = await fixture.open();
    try {
      const store = counting(inner);
      const before = app(store, {
        idleTimeout: 400,
        absoluteTimeout: 800,
        allowShortTimeouts: true,
      });
      const longer = { idleTimeout: 400, absoluteTimeout: 60_000 };
      const after = app(store, {
        ...longer,
        touchInterval: 50,
        allowShortTimeouts: true,
      });
      const browser = new Browser(before);
      await browser.fetch("http://localhost/login?u=ada");
      // The new deployment serves the same browser, busy for 1.5 s.
      const redeployed = new Browser(after);
      for (const [name, cookie] of browser.cookies) {
        redeployed.cookies.set(name, cookie);
      }
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        const seen = await (await redeployed.fetch("http://localhost/")).json();
        assert.equal(seen.user, "ada");
        await sleep(100);
      }
      const refreshed = store.commits.at(-1)!.sets
        .find((set) => set.key[0] === "user");
      assert.ok(
        refreshed !== undefined && refreshed.expireIn! > 50_000,
        "the last touch re-wrote the index entry for the longer lifetime",
      );
      assert.equal((await listSessions(store, "ada", longer)).length, 1);
      assert.equal(await revokeUserSessions(store, "ada"), 1);
      const out = await (await redeployed.fetch("http://localhost/")).json();
      assert.equal(out.user, null);
    } finally {
      close();
    }
  });

  Deno.test(`flash values do not cross login() or logout(), and do cross regenerate() (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const handler = app(store);
      const take = async (browser: Browser) =>
        (await (await browser.fetch("http://localhost/take")).json()).message;
      await t.step(
        "a message set while signed in is not shown after logout",
        async () => {
          const browser = new Browser(handler);
          await browser.fetch("http://localhost/login?u=ada");
          await browser.fetch("http://localhost/flash?m=recovery-codes");
          await browser.fetch("http://localhost/logout");
          assert.equal(await take(browser), null);
        },
      );
      await t.step(
        "a message planted before login is not shown after it",
        async () => {
          const browser = new Browser(handler);
          await browser.fetch("http://localhost/flash?m=planted");
          await browser.fetch("http://localhost/login?u=ada");
          assert.equal(await take(browser), null);
        },
      );
      await t.step(
        "regenerate() keeps the message for the same user",
        async () => {
          const browser = new Browser(handler);
          await browser.fetch("http://localhost/login?u=ada");
          await browser.fetch("http://localhost/flash?m=saved");
          await browser.fetch("http://localhost/regen");
          assert.equal(await take(browser), "saved");
        },
      );
    } finally {
      close();
    }
  });

  Deno.test(`clearSiteData sends Clear-Site-Data: "cookies" only when a session ends without a new one (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const header = async (
        options: SessionOptions,
        path: string,
        login = true,
      ) => {
        const browser = new Browser(app(store, options));
        await browser.fetch(
          login ? "https://localhost/login?u=ada" : "https://localhost/set",
        );
        const response = await browser.fetch(`https://localhost${path}`);
        await response.body?.cancel();
        return response.headers.get("clear-site-data");
      };
      await t.step("destroy()", async () => {
        assert.equal(
          await header({ clearSiteData: true }, "/destroy"),
          '"cookies"',
        );
      });
      await t.step("logout() that keeps no value", async () => {
        assert.equal(
          await header(
            { clearSiteData: true, persistentFieldsOnLogout: [] },
            "/logout",
          ),
          '"cookies"',
        );
      });
      await t.step(
        "not when logout() issues a new cookie (it would clear that too)",
        async () => {
          const browser = new Browser(
            app(store, {
              clearSiteData: true,
              persistentFieldsOnLogin: ["n"],
              persistentFieldsOnLogout: ["n"],
            }),
          );
          await browser.fetch("https://localhost/set");
          await browser.fetch("https://localhost/login?u=ada");
          const response = await browser.fetch("https://localhost/logout");
          await response.body?.cancel();
          assert.ok(browser.cookies.has("__Host-session"), "a new cookie");
          assert.equal(response.headers.get("clear-site-data"), null);
        },
      );
      await t.step(
        "not on other requests, nor when the option is off",
        async () => {
          assert.equal(await header({ clearSiteData: true }, "/"), null);
          assert.equal(await header({ clearSiteData: true }, "/regen"), null);
          assert.equal(await header({}, "/destroy"), null);
        },
      );
    } finally {
      close();
    }
  });
}
