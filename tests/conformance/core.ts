// withSession over real Request and Response objects: the behaviour users
// rely on, the same on every runtime and every store.
import assert from "node:assert/strict";
import {
  currentSession,
  getSession,
  type Session,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import {
  barrier,
  collect,
  CookieJar,
  failing,
  parseSetCookie,
  sha256,
  storedRecord,
  type StoreFixture,
  type Test,
  withStore,
} from "./_util.ts";

type Data = {
  visits: number;
  language: string;
  cart: string[];
  profile: { name: string; tags: string[] };
  a: number;
  b: number;
  x: number;
  v: unknown;
};

type Handler = (
  session: Session<Data>,
  request: Request,
) => Response | Promise<Response>;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const HTTP = "http://localhost/";
const HTTPS = "https://localhost/";

/** A withSession app over `store` whose handler gets the session. */
function app(
  store: SessionStore,
  handler: Handler,
  options: SessionOptions = {},
): (request: Request) => Promise<Response> {
  return withSession(
    (request) => handler(getSession<Data>(request), request),
    { store, ...options },
  );
}

const ok = () => new Response("ok");

async function sessionIds(store: SessionStore): Promise<string[]> {
  return (await collect(store.list(["session"]))).map((e) => e.key[1]!);
}

/** Registers the core behaviour tests for one store. */
export function coreSuite(test: Test, fixture: StoreFixture): void {
  const it = (name: string, fn: (store: SessionStore) => Promise<void>) =>
    test(`${fixture.name} core: ${name}`, () => withStore(fixture, fn));

  it("a request that stores nothing gets no cookie and writes nothing", async (store) => {
    const jar = new CookieJar(app(store, (s) => {
      assert.equal(s.get("visits"), undefined);
      assert.equal(s.has("language"), false);
      assert.deepEqual(s.keys(), []);
      assert.equal(s.isNew, true);
      assert.equal(s.userId, null);
      return ok();
    }));
    const res = await jar.fetch(HTTP);
    assert.equal(await res.text(), "ok");
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.deepEqual(await sessionIds(store), []);
  });

  it("the first value creates the session: a random token in an HttpOnly cookie, the record under its SHA-256", async (store) => {
    const res = await app(store, (s) => {
      s.set("visits", 1);
      return ok();
    })(new Request(HTTP));
    const [line, ...more] = res.headers.getSetCookie();
    assert.deepEqual(more, []);
    const cookie = parseSetCookie(line!);
    assert.equal(cookie.name, "session");
    assert.match(cookie.value, TOKEN);
    assert.equal(
      line,
      `session=${cookie.value}; Path=/; HttpOnly; SameSite=Lax`,
    );
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    assert.deepEqual(await sessionIds(store), [await sha256(cookie.value)]);
    const record = await storedRecord(store, cookie.value);
    assert.deepEqual(record?.data, { visits: 1 });
    assert.equal(record?.user, null);
    assert.equal(record?.https, false);
  });

  it("values round-trip across requests; an unchanged session sets no cookie", async (store) => {
    let handler: Handler = (s) => {
      s.set("language", "de");
      s.set("cart", ["book", "pen"]);
      s.set("profile", { name: "Ada", tags: ["x"] });
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    const token = jar.get("session");
    handler = (s) =>
      Response.json({
        isNew: s.isNew,
        keys: s.keys(),
        language: s.require("language"),
        cart: s.get("cart"),
        profile: s.get("profile"),
      });
    const res = await jar.fetch(HTTP);
    assert.deepEqual(await res.json(), {
      isNew: false,
      keys: ["language", "cart", "profile"],
      language: "de",
      cart: ["book", "pen"],
      profile: { name: "Ada", tags: ["x"] },
    });
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.equal(jar.get("session"), token);
  });

  it("in-place changes, delete() and clear() are saved", async (store) => {
    let handler: Handler = (s) => {
      s.set("cart", ["book"]);
      s.set("language", "fr");
      s.set("visits", 3);
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    handler = (s) => {
      s.get("cart")!.push("pen");
      s.delete("visits");
      return ok();
    };
    await jar.fetch(HTTP);
    const record = await storedRecord(store, jar.get("session")!);
    assert.deepEqual(record?.data, { cart: ["book", "pen"], language: "fr" });
    handler = (s) => {
      s.clear();
      return ok();
    };
    await jar.fetch(HTTP);
    handler = (s) => Response.json(s.keys());
    assert.deepEqual(await (await jar.fetch(HTTP)).json(), []);
  });

  it("set() refuses a value that is not JSON, naming the path, and stores nothing", async (store) => {
    const jar = new CookieJar(app(store, (s) => {
      assert.throws(
        () => s.set("v", { when: new Date(0) }),
        (error: unknown) =>
          error instanceof TypeError && error.message.includes(`"v.when"`),
      );
      assert.throws(() => s.set("v", [() => 1]), TypeError);
      assert.equal(s.has("v"), false);
      return ok();
    }));
    const res = await jar.fetch(HTTP);
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.deepEqual(await sessionIds(store), []);
  });

  it("update() composes: parallel increments on one session all count", async (store) => {
    const n = 8;
    const arrive = barrier(n);
    let handler: Handler = (s) => {
      s.set("visits", 0);
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    handler = async (s) => {
      // Every request has loaded the same version before any saves.
      await arrive();
      return new Response(String(s.update("visits", (v = 0) => v + 1)));
    };
    const responses = await Promise.all(
      Array.from({ length: n }, () => jar.fetch(HTTP)),
    );
    assert.deepEqual(responses.map((r) => r.status), Array(n).fill(200));
    handler = (s) => new Response(String(s.get("visits")));
    assert.equal(await jar.text(HTTP), String(n));
  });

  it("parallel requests that change different keys both keep their change", async (store) => {
    const arrive = barrier(2);
    let handler: Handler = (s) => {
      s.set("language", "de");
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    handler = async (s, r) => {
      await arrive();
      s.set(new URL(r.url).pathname === "/a" ? "a" : "b", 1);
      return ok();
    };
    await Promise.all([
      jar.fetch("http://localhost/a"),
      jar.fetch("http://localhost/b"),
    ]);
    const record = await storedRecord(store, jar.get("session")!);
    assert.deepEqual(record?.data, { language: "de", a: 1, b: 1 });
  });

  it("login() keeps the language, erases the rest, binds the user, and the old token dies", async (store) => {
    let handler: Handler = (s) => {
      s.set("language", "de");
      s.set("cart", ["book"]);
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    const anonymous = jar.get("session")!;
    const stolen = jar.clone();
    handler = async (s) => {
      await s.login("ada");
      return Response.json({ user: s.userId, keys: s.keys() });
    };
    assert.deepEqual(await (await jar.fetch(HTTP)).json(), {
      user: "ada",
      keys: ["language"],
    });
    const signedIn = jar.get("session")!;
    assert.match(signedIn, TOKEN);
    assert.notEqual(signedIn, anonymous);
    assert.equal(await storedRecord(store, anonymous), null);
    assert.deepEqual(await storedRecord(store, signedIn).then((r) => r?.data), {
      language: "de",
    });
    handler = (s) => Response.json({ user: s.userId, isNew: s.isNew });
    assert.deepEqual(await (await stolen.fetch(HTTP)).json(), {
      user: null,
      isNew: true,
    });
    assert.deepEqual(await (await jar.fetch(HTTP)).json(), {
      user: "ada",
      isNew: false,
    });

    handler = async (s) => {
      await s.logout();
      return Response.json({ user: s.userId, keys: s.keys() });
    };
    assert.deepEqual(await (await jar.fetch(HTTP)).json(), {
      user: null,
      keys: ["language"],
    });
    assert.notEqual(jar.get("session"), signedIn);
    assert.equal(await storedRecord(store, signedIn), null);
  });

  it("a session destroyed meanwhile is not brought back by a concurrent save", async (store) => {
    let handler: Handler = (s) => {
      s.set("visits", 1);
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    const token = jar.get("session")!;
    let loaded!: () => void;
    const isLoaded = new Promise<void>((resolve) => loaded = resolve);
    let release!: () => void;
    const released = new Promise<void>((resolve) => release = resolve);
    handler = async (s) => {
      loaded();
      await released;
      s.set("x", 1);
      return ok();
    };
    const slow = jar.clone().fetch(HTTP);
    await isLoaded;
    handler = async (s) => {
      await s.destroy();
      return ok();
    };
    await jar.fetch(HTTP);
    release();
    assert.equal((await slow).status, 200);
    assert.equal(await storedRecord(store, token), null);
    assert.deepEqual(await sessionIds(store), []);
  });

  it("over HTTPS the cookie is __Host- and Secure, and an HTTPS session is never readable over HTTP", async (store) => {
    let handler: Handler = (s) => {
      s.set("language", "de");
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    const res = await jar.fetch(HTTPS);
    const [line] = res.headers.getSetCookie();
    const token = jar.get("__Host-session")!;
    assert.match(token, TOKEN);
    assert.equal(
      line,
      `__Host-session=${token}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    );
    handler = (s) => Response.json({ isNew: s.isNew, keys: s.keys() });
    assert.deepEqual(await (await jar.fetch(HTTPS)).json(), {
      isNew: false,
      keys: ["language"],
    });
    // The browser withholds a Secure cookie over HTTP; an attacker who
    // replays the token under the plain name gets nothing.
    const replay = withSession((req) => {
      const s = getSession(req);
      return Response.json({ isNew: s.isNew, keys: s.keys() });
    }, { store });
    for (const cookie of [`session=${token}`, `__Host-session=${token}`]) {
      const r = await replay(new Request(HTTP, { headers: { cookie } }));
      assert.deepEqual(await r.json(), { isNew: true, keys: [] });
    }
    assert.deepEqual(await storedRecord(store, token).then((r) => r?.data), {
      language: "de",
    });
  });

  it("a session created over HTTP is erased when the client comes over HTTPS", async (store) => {
    let handler: Handler = (s) => {
      s.set("cart", ["book"]);
      return ok();
    };
    const jar = new CookieJar(app(store, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    const plain = jar.get("session")!;
    handler = (s) => Response.json({ isNew: s.isNew, keys: s.keys() });
    const res = await jar.fetch(HTTPS);
    assert.deepEqual(await res.json(), { isNew: true, keys: [] });
    assert.equal(await storedRecord(store, plain), null);
    assert.equal(jar.get("session"), undefined, "the plain cookie is cleared");
  });

  it("idle sessions expire, checked on read", async (store) => {
    let handler: Handler = (s) => {
      s.set("visits", 1);
      return ok();
    };
    const jar = new CookieJar(
      app(store, (s, r) => handler(s, r), {
        idleTimeout: 200,
        allowShortTimeouts: true,
        touchInterval: 0,
      }),
    );
    await jar.fetch(HTTP);
    handler = (s) => new Response(String(s.get("visits")));
    assert.equal(await jar.text(HTTP), "1");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await jar.text(HTTP), "undefined");
  });

  it("a store that fails to read answers 503; the handler does not run", async (store) => {
    const broken = failing(store);
    let ran = 0;
    let handler: Handler = (s) => {
      ran++;
      s.set("visits", 1);
      return ok();
    };
    const jar = new CookieJar(app(broken, (s, r) => handler(s, r)));
    await jar.fetch(HTTP);
    broken.failReads = true;
    handler = () => {
      ran++;
      return ok();
    };
    const original = console.error;
    console.error = () => {};
    try {
      const res = await jar.fetch(HTTP);
      assert.equal(res.status, 503);
      assert.deepEqual(res.headers.getSetCookie(), []);
      await res.body?.cancel();
    } finally {
      console.error = original;
    }
    assert.equal(ran, 1);
  });

  it("a save that fails answers 503, never the handler's response", async (store) => {
    const broken = failing(store);
    broken.failCommits = true;
    const original = console.error;
    console.error = () => {};
    try {
      const res = await app(broken, (s) => {
        s.set("visits", 1);
        return new Response("saved!");
      })(new Request(HTTP));
      assert.equal(res.status, 503);
      assert.notEqual(await res.text(), "saved!");
      assert.deepEqual(res.headers.getSetCookie(), []);
    } finally {
      console.error = original;
    }
    assert.deepEqual(await sessionIds(store), []);
  });

  it("a cookie that is not a well-formed token never reaches the store", async (store) => {
    const counted = failing(store);
    const handle = app(counted, (s) => Response.json(s.isNew));
    const bad = [
      "session=abc",
      `session=${"A".repeat(42)}B`, // not a canonical base64url of 32 bytes
      `session=${"A".repeat(44)}`,
      `session=${"A".repeat(42)}+`,
    ];
    for (const cookie of bad) {
      const res = await handle(new Request(HTTP, { headers: { cookie } }));
      assert.equal(await res.json(), true);
    }
    assert.equal(counted.reads, 0);
  });

  it("extra handler arguments pass through (Deno's info, Bun's server)", async (store) => {
    const server = { name: "server" };
    const handle = withSession(
      (req: Request, info: { name: string }, n: number) => {
        getSession(req).set("visits", n);
        return new Response(`${info.name} ${n}`);
      },
      { store },
    );
    const res = await handle(new Request(HTTP), server, 7);
    assert.equal(await res.text(), "server 7");
  });

  it("currentSession() is the request's session, in nested async code", async (store) => {
    async function remember(language: string): Promise<void> {
      await Promise.resolve();
      currentSession<Data>().set("language", language);
    }
    const jar = new CookieJar(app(store, async (s, r) => {
      await remember(new URL(r.url).searchParams.get("lang")!);
      assert.equal(currentSession(), s as unknown as Session);
      return ok();
    }));
    const other = new CookieJar(jar.fetcher);
    await Promise.all([
      jar.fetch("http://localhost/?lang=de"),
      other.fetch("http://localhost/?lang=fr"),
    ]);
    assert.deepEqual(
      (await storedRecord(store, jar.get("session")!))?.data,
      { language: "de" },
    );
    assert.deepEqual(
      (await storedRecord(store, other.get("session")!))?.data,
      { language: "fr" },
    );
  });
}
