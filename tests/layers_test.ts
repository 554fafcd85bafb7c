// More than one session per app: nested withSession layers with different
// cookie names each load, save and set their own cookie.
import assert from "node:assert/strict";
import {
  currentSession,
  defineSession,
  getSession,
  withSession,
} from "../mod.ts";
import { Browser, STORES } from "./_helpers.ts";

for (const fixture of STORES) {
  Deno.test(`${fixture.name}: two nested withSession layers (site, admin) both save and are both reachable`, async () => {
    const { store, close } = await fixture.open();
    try {
      const inner = withSession((req) => {
        const site = getSession<{ visits: number }>(req, {
          cookieName: "site",
        });
        const admin = getSession<{ actions: number }>(req, {
          cookieName: "admin",
        });
        assert.notEqual(site, admin);
        // Without a name, the innermost layer's session, as with one layer.
        assert.equal(getSession(req), admin);
        assert.equal(currentSession(), admin);
        assert.equal(currentSession({ cookieName: "site" }), site);
        const visits = site.update("visits", (n = 0) => n + 1);
        const actions = new URL(req.url).pathname === "/admin"
          ? admin.update("actions", (n = 0) => n + 1)
          : admin.get("actions") ?? 0;
        return Response.json({ visits, actions });
      }, { store, cookieName: "admin" });
      const app = withSession(inner, { store, cookieName: "site" });
      const jar = new Browser(app);
      assert.deepEqual(
        await (await jar.fetch("http://localhost/admin")).json(),
        {
          visits: 1,
          actions: 1,
        },
      );
      assert.deepEqual([...jar.cookies.keys()].sort(), ["admin", "site"]);
      assert.deepEqual(await (await jar.fetch("http://localhost/")).json(), {
        visits: 2,
        actions: 1,
      });
      // Each cookie names its own record: without the admin cookie, the
      // site session goes on and the admin one starts empty.
      const siteOnly = jar.clone();
      siteOnly.cookies.delete("admin");
      assert.deepEqual(
        await (await siteOnly.fetch("http://localhost/")).json(),
        { visits: 3, actions: 0 },
      );
      assert.deepEqual(
        await (await jar.fetch("http://localhost/admin")).json(),
        {
          visits: 4,
          actions: 2,
        },
      );
      // Signing in to one leaves the other's token alone.
      const signIn = withSession(
        withSession(async (req) => {
          await getSession(req, { cookieName: "admin" }).login("root");
          return new Response("in");
        }, { store, cookieName: "admin" }),
        { store, cookieName: "site" },
      );
      const before = { site: jar.get("site"), admin: jar.get("admin") };
      const res = await signIn(
        new Request("http://localhost/", {
          headers: { cookie: jar.header("http://localhost/")! },
        }),
      );
      jar.take(res);
      assert.equal(jar.get("site"), before.site);
      assert.notEqual(jar.get("admin"), before.admin);
    } finally {
      close();
    }
  });
}

Deno.test("getSession(req, { cookieName }) names the layers there are when none matches", async () => {
  const { store, close } = await STORES[1]!.open();
  try {
    const app = withSession((req) => {
      assert.throws(
        () => getSession(req, { cookieName: "admin" }),
        (error: unknown) =>
          error instanceof TypeError &&
          /no withSession\(\) layer with cookieName "admin"/.test(
            error.message,
          ) && /"session"/.test(error.message),
      );
      assert.throws(() => currentSession({ cookieName: "admin" }), TypeError);
      return new Response("ok");
    }, { store });
    assert.equal(
      await (await app(new Request("http://localhost/"))).text(),
      "ok",
    );
  } finally {
    close();
  }
});

Deno.test("defineSession(): nested definitions each reach their own session with get() and current()", async () => {
  const { store, close } = await STORES[0]!.open();
  try {
    const site = defineSession<{ theme: string }>({
      store,
      cookieName: "site",
    });
    const admin = defineSession<{ mode: string }>({
      store,
      cookieName: "admin",
    });
    const app = site.handler(admin.handler((req) => {
      site.get(req).set("theme", "dark");
      admin.current().set("mode", "audit");
      return Response.json({
        theme: site.current().get("theme"),
        mode: admin.get(req).get("mode"),
      });
    }));
    const jar = new Browser(app);
    assert.deepEqual(await (await jar.fetch("http://localhost/")).json(), {
      theme: "dark",
      mode: "audit",
    });
    const read = site.handler(
      admin.handler((req) =>
        Response.json([site.get(req).get("theme"), admin.get(req).get("mode")])
      ),
    );
    const res = await read(
      new Request("http://localhost/", {
        headers: { cookie: jar.header("http://localhost/")! },
      }),
    );
    assert.deepEqual(await res.json(), ["dark", "audit"]);
  } finally {
    close();
  }
});
