// The Session API: values, JSON rules, in-place changes, login and logout.
import assert from "node:assert/strict";
import {
  getSession,
  MissingSessionValueError,
  type Session,
  withSession,
} from "../mod.ts";
import { Browser, storedRecord, STORES } from "./_helpers.ts";

type Handler = (
  session: Session,
  request: Request,
) => Response | Promise<Response>;

/** An app whose handler is swapped per request, over one store. */
function appOn(
  store: Parameters<typeof withSession>[1] extends infer O ? O : never,
) {
  let handler: Handler = () => new Response("ok");
  const app = withSession((req) => handler(getSession(req), req), store);
  return {
    app,
    on(next: Handler) {
      handler = next;
    },
  };
}

for (const fixture of STORES) {
  Deno.test(`Session values round-trip across requests (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    const { app, on } = appOn({ store });
    const browser = new Browser(app);
    try {
      await t.step("set, get, has and keys", async () => {
        on((s) => {
          s.set("name", "Ada");
          s.set("cart", [{ sku: "a1", qty: 2 }, {
            sku: "b2",
            qty: 1,
            note: null,
          }]);
          s.set("prefs", {
            theme: "dark",
            nested: { deep: [1, 2.5, true, "x"] },
          });
          return new Response("stored");
        });
        await browser.text("http://localhost/");
        on((s) =>
          Response.json({
            name: s.get("name"),
            cart: s.get("cart"),
            keys: s.keys(),
            has: s.has("prefs"),
            missing: s.get("nope") ?? "undefined",
          })
        );
        assert.deepEqual(
          await (await browser.fetch("http://localhost/")).json(),
          {
            name: "Ada",
            cart: [{ sku: "a1", qty: 2 }, { sku: "b2", qty: 1, note: null }],
            keys: ["name", "cart", "prefs"],
            has: true,
            missing: "undefined",
          },
        );
      });

      await t.step(
        "require() returns a value and throws MissingSessionValueError for a missing key",
        async () => {
          on((s) => {
            assert.equal(s.require("name"), "Ada");
            const error = assert.throws(
              () => s.require("absent"),
              MissingSessionValueError,
            );
            return new Response(String(error));
          });
          assert.equal((await browser.fetch("http://localhost/")).status, 200);
        },
      );

      await t.step("delete() and clear() are saved", async () => {
        on((s) =>
          new Response(String(s.delete("name")) + String(s.delete("name")))
        );
        assert.equal(await browser.text("http://localhost/"), "truefalse");
        on((s) => Response.json(s.keys()));
        assert.deepEqual(
          await (await browser.fetch("http://localhost/")).json(),
          ["cart", "prefs"],
        );
        on((s) => {
          s.clear();
          return new Response("cleared");
        });
        await browser.text("http://localhost/");
        on((s) => Response.json(s.keys()));
        assert.deepEqual(
          await (await browser.fetch("http://localhost/")).json(),
          [],
        );
      });

      await t.step(
        "update() applies the function to the current value",
        async () => {
          on((s) =>
            new Response(String(s.update("n", (n = 0) => (n as number) + 1)))
          );
          assert.equal(await browser.text("http://localhost/"), "1");
          assert.equal(await browser.text("http://localhost/"), "2");
          assert.equal(await browser.text("http://localhost/"), "3");
        },
      );

      await t.step(
        "an in-place push into a stored list is saved without markChanged()",
        async () => {
          on((s) => {
            s.set("list", ["milk"]);
            return new Response("");
          });
          await browser.text("http://localhost/");
          on((s) => {
            (s.get("list") as string[]).push("eggs");
            ((s.get("prefs") ?? {}) as Record<string, unknown>).x = 1;
            return new Response("");
          });
          await browser.text("http://localhost/");
          on((s) => Response.json(s.get("list")));
          assert.deepEqual(
            await (await browser.fetch("http://localhost/")).json(),
            ["milk", "eggs"],
          );
        },
      );

      await t.step(
        "a nested in-place change deep inside an object is saved",
        async () => {
          on((s) => {
            s.set("profile", { address: { lines: ["1 Main St"] } });
            return new Response("");
          });
          await browser.text("http://localhost/");
          on((s) => {
            const profile = s.get("profile") as {
              address: { lines: string[] };
            };
            profile.address.lines[0] = "2 High St";
            return new Response("");
          });
          await browser.text("http://localhost/");
          on((s) => Response.json(s.get("profile")));
          assert.deepEqual(
            await (await browser.fetch("http://localhost/")).json(),
            {
              address: { lines: ["2 High St"] },
            },
          );
        },
      );

      await t.step(
        "a value changed in place after set() is saved with its final content",
        async () => {
          on((s) => {
            const tags: string[] = [];
            s.set("tags", tags);
            tags.push("late");
            return new Response("");
          });
          await browser.text("http://localhost/");
          on((s) => Response.json(s.get("tags")));
          assert.deepEqual(
            await (await browser.fetch("http://localhost/")).json(),
            ["late"],
          );
        },
      );

      await t.step(
        "keys named __proto__ and constructor round-trip as plain data",
        async () => {
          on((s) => {
            s.set("__proto__", { polluted: true });
            s.set("constructor", JSON.parse('{"__proto__": {"admin": true}}'));
            return new Response("");
          });
          await browser.text("http://localhost/");
          on((s) =>
            Response.json({
              proto: s.get("__proto__"),
              ctor: Object.keys(s.get("constructor") as object),
              keys: s.keys().filter((k) => k.includes("o")),
            })
          );
          const body = await (await browser.fetch("http://localhost/")).json();
          assert.deepEqual(body.proto, { polluted: true });
          assert.deepEqual(body.ctor, ["__proto__"]);
          assert.ok(
            body.keys.includes("__proto__") &&
              body.keys.includes("constructor"),
          );
          assert.equal(({} as Record<string, unknown>).polluted, undefined);
          assert.equal(({} as Record<string, unknown>).admin, undefined);
        },
      );
    } finally {
      close();
    }
  });
}

Deno.test("Session.set() refuses values that are not JSON, naming the path", async (t) => {
  const { store, close } = await STORES[1]!.open();
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  class Point {
    x = 1;
  }
  const cases: [string, unknown, string][] = [
    ["a function", { f: () => 1 }, `Cannot store "v.f": function is not JSON`],
    ["undefined", [1, undefined], `Cannot store "v.1": undefined is not JSON`],
    ["a symbol", Symbol("s"), `Cannot store "v": symbol is not JSON`],
    ["a bigint", { n: 1n }, `Cannot store "v.n": bigint is not JSON`],
    [
      "a Date",
      { cart: [{ date: new Date() }] },
      `Cannot store "v.cart.0.date": Date is not JSON`,
    ],
    ["a Map", new Map(), `Cannot store "v": Map is not JSON`],
    ["a Set", { s: new Set() }, `Cannot store "v.s": Set is not JSON`],
    [
      "a class instance",
      { p: new Point() },
      `Cannot store "v.p": Point is not JSON`,
    ],
    [
      "a cycle",
      cycle,
      `Cannot store "v.self": it contains itself (a cycle) and is not JSON`,
    ],
    ["NaN", { n: NaN }, `Cannot store "v.n": NaN is not JSON`],
    ["Infinity", [Infinity], `Cannot store "v.0": Infinity is not JSON`],
  ];
  const browser = new Browser(withSession((req) => {
    const s = getSession(req);
    const results = cases.map(([, value]) => {
      try {
        s.set("v", value);
        return "stored";
      } catch (error) {
        return error instanceof TypeError
          ? error.message
          : `not a TypeError: ${error}`;
      }
    });
    return Response.json({ results, has: s.has("v") });
  }, { store }));
  try {
    const body = await (await browser.fetch("http://localhost/")).json();
    for (const [i, [name, , message]] of cases.entries()) {
      await t.step(
        `${name} is refused`,
        () => assert.equal(body.results[i], message),
      );
    }
    assert.equal(body.has, false, "nothing was stored");
    assert.equal(browser.cookies.size, 0, "no session was created");
  } finally {
    close();
  }
});

for (const fixture of STORES) {
  Deno.test(`Session login, logout, regenerate and destroy rotate tokens (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    const { app, on } = appOn({ store });
    const browser = new Browser(app);
    const token = () => browser.cookies.get("session")?.value;
    try {
      on((s) => {
        s.set("language", "de");
        s.set("cart", ["book"]);
        return new Response("");
      });
      await browser.text("http://localhost/");
      const anonymous = token()!;
      assert.ok(anonymous);

      await t.step(
        "login() keeps language, drops the rest, binds the user and issues a new token",
        async () => {
          on(async (s) => {
            await s.login("ada");
            return Response.json({ user: s.userId, keys: s.keys() });
          });
          const body = await (await browser.fetch("http://localhost/")).json();
          assert.deepEqual(body, { user: "ada", keys: ["language"] });
          assert.notEqual(token(), anonymous);
          assert.equal(
            await storedRecord(store, anonymous),
            null,
            "the old record is deleted",
          );
          const record = await storedRecord(store, token()!);
          assert.equal(record?.user, "ada");
          assert.deepEqual(record?.data, { language: "de" });
        },
      );

      await t.step("the old token is dead after login", async () => {
        const old = new Browser(app);
        old.cookies.set("session", { value: anonymous, secure: false });
        on((s) =>
          Response.json({ keys: s.keys(), user: s.userId, isNew: s.isNew })
        );
        assert.deepEqual(await (await old.fetch("http://localhost/")).json(), {
          keys: [],
          user: null,
          isNew: true,
        });
      });

      await t.step(
        "regenerate() issues a new token and keeps data and user",
        async () => {
          const before = token()!;
          on(async (s) => {
            s.set("cart", ["pen"]);
            await s.regenerate();
            return Response.json({ user: s.userId, keys: s.keys() });
          });
          assert.deepEqual(
            await (await browser.fetch("http://localhost/")).json(),
            {
              user: "ada",
              keys: ["language", "cart"],
            },
          );
          assert.notEqual(token(), before);
          assert.equal(await storedRecord(store, before), null);
        },
      );

      await t.step(
        "logout() keeps language under a new token and unbinds the user",
        async () => {
          const before = token()!;
          on(async (s) => {
            await s.logout();
            return Response.json({ user: s.userId, keys: s.keys() });
          });
          assert.deepEqual(
            await (await browser.fetch("http://localhost/")).json(),
            {
              user: null,
              keys: ["language"],
            },
          );
          assert.notEqual(token(), before);
          assert.equal(await storedRecord(store, before), null);
        },
      );

      await t.step(
        "logout() with nothing to keep destroys the session and clears the cookie",
        async () => {
          const before = token()!;
          on(async (s) => {
            s.delete("language");
            await s.logout();
            return new Response("");
          });
          const res = await browser.fetch("http://localhost/");
          assert.deepEqual(res.headers.getSetCookie(), [
            "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
          ]);
          assert.equal(token(), undefined);
          assert.equal(await storedRecord(store, before), null);
        },
      );

      await t.step(
        "destroy() deletes the record and clears the cookie",
        async () => {
          on((s) => {
            s.set("x", 1);
            return new Response("");
          });
          await browser.text("http://localhost/");
          const before = token()!;
          on(async (s) => {
            await s.destroy();
            return new Response("");
          });
          const res = await browser.fetch("http://localhost/");
          assert.deepEqual(res.headers.getSetCookie(), [
            "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
          ]);
          assert.equal(await storedRecord(store, before), null);
        },
      );

      await t.step(
        "a value stored after destroy() starts a new session",
        async () => {
          on((s) => {
            s.set("x", 1);
            return new Response("");
          });
          await browser.text("http://localhost/");
          const before = token()!;
          on(async (s) => {
            await s.destroy();
            s.set("fresh", true);
            return new Response("");
          });
          await browser.text("http://localhost/");
          assert.notEqual(token(), before);
          assert.deepEqual((await storedRecord(store, token()!))?.data, {
            fresh: true,
          });
        },
      );

      await t.step(
        "login() on a brand-new session creates it bound to the user",
        async () => {
          const fresh = new Browser(app);
          on(async (s) => {
            s.set("language", "fr");
            s.set("draft", "x");
            await s.login("bob");
            return new Response("");
          });
          await fresh.text("http://localhost/");
          const record = await storedRecord(
            store,
            fresh.cookies.get("session")!.value,
          );
          assert.equal(record?.user, "bob");
          assert.deepEqual(record?.data, { language: "fr" });
        },
      );

      await t.step(
        "persistentFieldsOnLogin and persistentFieldsOnLogout are configurable",
        async () => {
          const custom = withSession(async (req) => {
            const s = getSession(req);
            if (req.url.endsWith("/in")) {
              s.set("theme", "dark");
              s.set("language", "en");
              await s.login("cy");
            } else await s.logout();
            return Response.json(s.keys());
          }, {
            store,
            persistentFieldsOnLogin: ["theme"],
            persistentFieldsOnLogout: [],
          });
          const b = new Browser(custom);
          assert.deepEqual(
            await (await b.fetch("http://localhost/in")).json(),
            ["theme"],
          );
          assert.deepEqual(
            await (await b.fetch("http://localhost/out")).json(),
            [],
          );
          assert.equal(
            b.cookies.size,
            0,
            "logout keeping nothing leaves no cookie",
          );
        },
      );

      await t.step(
        "login() refuses an empty or non-string user id",
        async () => {
          on(async (s) => {
            await assert.rejects(s.login(""), TypeError);
            await assert.rejects(s.login(42 as unknown as string), TypeError);
            return new Response("checked");
          });
          assert.equal(await browser.text("http://localhost/"), "checked");
        },
      );
    } finally {
      close();
    }
  });
}
