// withSession(): lazy loading, cookies and channels, expiry, concurrency, failure.
import assert from "node:assert/strict";
import {
  currentSession,
  getSession,
  kvStore,
  memoryStore,
  SessionConflictError,
  SessionStoreError,
  SessionTooLargeError,
  withSession,
} from "../mod.ts";
import {
  Browser,
  collect,
  counting,
  faulty,
  gate,
  parseSetCookie,
  sha256,
  sleep,
  storedRecord,
  STORES,
} from "./_helpers.ts";

const setter = (key: string, value: unknown) => (req: Request) => {
  getSession(req).set(key, value);
  return new Response("set");
};
const reader = (req: Request) =>
  Response.json({ keys: getSession(req).keys() });

Deno.test("withSession() sets no cookie and writes nothing until a value is stored", async () => {
  const store = counting(memoryStore());
  const app = withSession((req) => {
    const s = getSession(req);
    return new Response(
      String(s.get("missing")) + String(s.has("x")) + s.keys().length,
    );
  }, { store });
  const res = await app(new Request("http://localhost/"));
  assert.equal(await res.text(), "undefinedfalse0");
  assert.deepEqual(res.headers.getSetCookie(), []);
  assert.equal(store.commits.length, 0);
  assert.equal(store.reads, 0, "no cookie, so no store read");
});

Deno.test("withSession() sets an HTTP cookie with HttpOnly and SameSite=Lax, no Secure, no Domain", async () => {
  const res = await withSession(setter("a", 1), { store: memoryStore() })(
    new Request("http://example.com/some/path"),
  );
  const [line, ...more] = res.headers.getSetCookie();
  assert.equal(more.length, 0);
  assert.match(
    line!,
    /^session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
  );
});

Deno.test("withSession() sets a __Host- cookie over HTTPS with Secure and Path=/", async () => {
  const res = await withSession(setter("a", 1), { store: memoryStore() })(
    new Request("https://example.com/deep/path"),
  );
  const [line] = res.headers.getSetCookie();
  assert.match(
    line!,
    /^__Host-session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
  );
  assert.doesNotMatch(
    line!,
    /Domain|Max-Age|Expires/i,
    "a browser-session cookie",
  );
});

Deno.test("withSession() reads a request's URL only when its channel matters", async (t) => {
  /** A request that counts the reads of its URL (Deno.serve builds it on
   * each read, which costs more than the rest of an anonymous request). */
  const watched = (url: string, cookie?: string) => {
    const request = new Request(url, cookie ? { headers: { cookie } } : {});
    const reads = { count: 0 };
    Object.defineProperty(request, "url", {
      get: () => (reads.count++, url),
    });
    return { request, reads };
  };
  const store = memoryStore();
  const app = withSession((req) => {
    const session = getSession(req);
    const set = req.headers.get("x-set");
    if (set !== null) session.set("a", set);
    return new Response(String(session.get("a") ?? "none"));
  }, { store });
  await t.step(
    "not for a request without cookies that starts no session",
    async () => {
      const { request, reads } = watched("https://example.com/");
      const response = await app(request);
      assert.equal(await response.text(), "none");
      assert.equal(reads.count, 0);
      assert.equal(response.headers.get("vary"), "Cookie");
    },
  );
  await t.step(
    "but for one that starts a session, whose cookie is of its channel",
    async () => {
      const { request, reads } = watched("https://example.com/");
      request.headers.set("x-set", "1");
      const response = await app(request);
      assert.ok(reads.count > 0);
      const [line] = response.headers.getSetCookie();
      assert.match(
        line!,
        /^__Host-session=[A-Za-z0-9_-]{43}; Path=\/; Secure;/,
      );
      const cookie = line!.split(";")[0]!;
      const back = watched("https://example.com/", cookie);
      assert.equal(await (await app(back.request)).text(), "1");
      assert.ok(back.reads.count > 0, "a cookie is looked up on its channel");
      const plain = watched("http://example.com/", cookie);
      assert.equal(
        await (await app(plain.request)).text(),
        "none",
        "an HTTPS session is no session over plain HTTP",
      );
    },
  );
});

Deno.test("withSession() honours cookieName, cookieMaxAge and sameSite", async () => {
  const app = withSession(setter("a", 1), {
    store: memoryStore(),
    cookieName: "sid",
    cookieMaxAge: 7 * 86_400_000,
    absoluteTimeout: 7 * 86_400_000,
    sameSite: "Strict",
  });
  const [line] = (await app(new Request("https://example.com/"))).headers
    .getSetCookie();
  const cookie = parseSetCookie(line!);
  assert.equal(cookie.name, "__Host-sid");
  assert.equal(cookie.attributes.get("max-age"), String(7 * 86_400));
  assert.equal(cookie.attributes.get("samesite"), "Strict");
});

Deno.test("withSession() issues a 43-character token and stores only its SHA-256", async () => {
  const store = memoryStore();
  const browser = new Browser(withSession(setter("secret", "s3"), { store }));
  await browser.fetch("http://localhost/");
  const token = browser.cookies.get("session")!.value;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(
    atob(token.replaceAll("-", "+").replaceAll("_", "/") + "=").length,
    32,
  );
  const record = await storedRecord(store, token);
  assert.deepEqual(record?.data, { secret: "s3" });
  assert.equal(
    await store.get(["session", token]),
    null,
    "the token itself is not a key",
  );
  const all = [];
  for await (const entry of store.list(["session"])) all.push(entry);
  assert.deepEqual(all.map((e) => e.key), [["session", await sha256(token)]]);
  assert.ok(!new TextDecoder().decode(all[0]!.value).includes(token));
});

Deno.test("withSession() never sends a malformed cookie value to the store", async (t) => {
  const store = counting(memoryStore());
  const app = withSession(reader, { store });
  const bad = [
    "session=",
    "session=abc",
    "session=" + "A".repeat(44),
    "session=" + "A".repeat(42) + "B", // not a canonical 32-byte encoding
    "session=" + "A".repeat(42) + "=",
    'session="' + "A".repeat(43) + '"',
    "session=" + "A".repeat(21) + "%" + "A".repeat(21),
  ];
  for (const cookie of bad) {
    await t.step(cookie.slice(0, 30), async () => {
      const res = await app(
        new Request("http://localhost/", { headers: { cookie } }),
      );
      assert.equal(res.status, 200);
    });
  }
  assert.equal(store.reads, 0);
});

Deno.test("withSession() never adopts an unknown token, and issues its own", async () => {
  const store = counting(memoryStore());
  const planted = "A".repeat(42) + "A";
  const res = await withSession(setter("a", 1), { store })(
    new Request("http://localhost/", {
      headers: { cookie: `session=${planted}` },
    }),
  );
  assert.equal(store.reads, 1, "a well-formed token is looked up");
  const cookie = parseSetCookie(res.headers.getSetCookie()[0]!);
  assert.notEqual(cookie.value, planted);
  assert.equal(await storedRecord(store, planted), null);
});

Deno.test("withSession() keeps HTTP and HTTPS sessions apart", async (t) => {
  const store = memoryStore();
  let handler = setter("from", "http") as (
    req: Request,
  ) => Response | Promise<Response>;
  const browser = new Browser(withSession((req) => handler(req), { store }));

  await t.step(
    "HTTPS reads only the __Host- cookie; an HTTP session presented over HTTPS is erased",
    async () => {
      await browser.fetch("http://example.com/");
      const httpToken = browser.cookies.get("session")!.value;
      assert.ok(await storedRecord(store, httpToken));
      handler = reader;
      const res = await browser.fetch("https://example.com/");
      assert.deepEqual(await res.json(), { keys: [] });
      assert.deepEqual(res.headers.getSetCookie(), [
        "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
      ]);
      assert.equal(
        await storedRecord(store, httpToken),
        null,
        "its contents are gone",
      );
      assert.equal(browser.cookies.has("session"), false);
    },
  );

  await t.step(
    "a new HTTPS session starts when a value is stored",
    async () => {
      handler = setter("from", "https");
      await browser.fetch("https://example.com/");
      assert.ok(browser.cookies.get("__Host-session")?.secure);
      handler = (req) => Response.json(getSession(req).get("from") ?? null);
      assert.equal(
        await (await browser.fetch("https://example.com/")).json(),
        "https",
      );
    },
  );

  await t.step(
    "an HTTPS session is never accepted over HTTP, even under the plain name",
    async () => {
      const httpsToken = browser.cookies.get("__Host-session")!.value;
      const res = await withSession(reader, { store })(
        new Request("http://example.com/", {
          headers: {
            cookie: `session=${httpsToken}; __Host-session=${httpsToken}`,
          },
        }),
      );
      assert.deepEqual(await res.json(), { keys: [] });
      assert.ok(await storedRecord(store, httpsToken), "and it is not harmed");
    },
  );

  await t.step(
    "a plain cookie with an HTTPS session's token does not load it over HTTPS",
    async () => {
      const httpsToken = browser.cookies.get("__Host-session")!.value;
      const res = await withSession(reader, { store })(
        new Request("https://example.com/", {
          headers: { cookie: `session=${httpsToken}` },
        }),
      );
      assert.deepEqual(await res.json(), { keys: [] });
    },
  );
});

Deno.test("withSession() passes extra handler arguments through untouched", async () => {
  const info = { remoteAddr: { hostname: "127.0.0.1" } };
  const app = withSession((_req: Request, a: typeof info, b: number) => {
    assert.equal(a, info);
    return new Response(String(b));
  }, { store: memoryStore() });
  assert.equal(
    await (await app(new Request("http://localhost/"), info, 7)).text(),
    "7",
  );
});

Deno.test("getSession() and currentSession() throw outside withSession()", async () => {
  assert.throws(() => getSession(new Request("http://localhost/")), {
    name: "TypeError",
    message: /withSession\(\)/,
  });
  assert.throws(() => currentSession(), {
    name: "TypeError",
    message: /outside a request/,
  });
  const app = withSession(async (req) => {
    await sleep(1);
    return new Response(String(currentSession() === getSession(req)));
  }, { store: memoryStore() });
  assert.equal(
    await (await app(new Request("http://localhost/"))).text(),
    "true",
  );
});

Deno.test("withSession() adds cookies to responses with immutable headers and keeps the handler's own", async () => {
  const app = withSession((req) => {
    getSession(req).set("a", 1);
    return req.url.endsWith("/redirect")
      ? Response.redirect("http://localhost/next", 303)
      : new Response("x", { headers: [["set-cookie", "theme=dark; Path=/"]] });
  }, { store: memoryStore() });
  const redirect = await app(new Request("http://localhost/redirect"));
  assert.equal(redirect.status, 303);
  assert.equal(redirect.headers.get("location"), "http://localhost/next");
  assert.equal(redirect.headers.getSetCookie().length, 1);
  const own = await app(new Request("http://localhost/"));
  const names = own.headers.getSetCookie().map((l) => parseSetCookie(l).name)
    .sort();
  assert.deepEqual(names, ["session", "theme"]);
  assert.match(own.headers.get("cache-control")!, /private/);
  assert.match(own.headers.get("vary")!, /Cookie/);
});

Deno.test("withSession() saves before the response is returned", async () => {
  const store = memoryStore();
  const res = await withSession(setter("done", true), { store })(
    new Request("http://localhost/"),
  );
  const token = parseSetCookie(res.headers.getSetCookie()[0]!).value;
  assert.deepEqual((await storedRecord(store, token))?.data, { done: true });
});

Deno.test("withSession() calls a wrapper's get and commit, not those of the memoryStore it spreads", async () => {
  // The memory store answers tessera without a promise; a wrapper made by
  // spreading it must still see every call (to count, log or inject faults).
  const inner = memoryStore();
  const calls: string[] = [];
  const store = {
    ...inner,
    get: (key: readonly string[]) => {
      calls.push("get");
      return inner.get(key);
    },
    commit: (change: Parameters<typeof inner.commit>[0]) => {
      calls.push("commit");
      return inner.commit(change);
    },
  };
  const browser = new Browser(withSession((req) => {
    const n = getSession<{ n: number }>(req).update("n", (n = 0) => n + 1);
    return new Response(String(n));
  }, { store }));
  await browser.fetch("http://localhost/");
  assert.equal(await (await browser.fetch("http://localhost/")).text(), "2");
  assert.deepEqual(calls, ["commit", "get", "commit"]);
});

Deno.test("withSession() keeps the ids of a session's last 16 writes in its record, newest last", async () => {
  // What a save whose reply was lost looks for, to tell it was applied.
  const store = memoryStore();
  const browser = new Browser(withSession((req) => {
    const n = getSession<{ n: number }>(req).update("n", (n = 0) => n + 1);
    return new Response(String(n));
  }, { store }));
  const seen: string[][] = [];
  for (let i = 0; i < 20; i++) {
    await browser.fetch("http://localhost/");
    const token = browser.cookies.get("session")!.value;
    const record = await storedRecord(store, token) as { w?: string } | null;
    // One string of fixed-width ids (13 characters each), oldest first.
    const w = record!.w!;
    assert.equal(typeof w, "string");
    assert.equal(w.length % 13, 0, `whole ids: ${w}`);
    seen.push(w.match(/.{13}/g)!);
  }
  for (let i = 0; i < 20; i++) {
    assert.equal(seen[i]!.length, Math.min(i + 1, 16), `after ${i + 1} writes`);
    assert.equal(new Set(seen[i]).size, seen[i]!.length, "distinct ids");
    if (i > 0) {
      // The previous list, oldest dropped once full, plus the new id.
      assert.deepEqual(
        seen[i]!.slice(0, -1),
        seen[i - 1]!.slice(i < 16 ? 0 : 1),
      );
    }
  }
});

Deno.test("withSession() opens the default Deno KV on first need, not before", async () => {
  const original = Deno.openKv;
  let opened = 0;
  // Deno.openKv is the runtime's own API, not tessera's: counting its calls
  // shows when tessera opens the default store.
  Object.defineProperty(Deno, "openKv", {
    value: (..._args: unknown[]) => {
      opened++;
      return original(":memory:");
    },
    configurable: true,
    writable: true,
  });
  try {
    const browser = new Browser(withSession((req) => {
      if (req.url.endsWith("/write")) getSession(req).set("a", 1);
      return Response.json(getSession(req).get("a") ?? null);
    }));
    assert.equal(opened, 0, "not at withSession() time");
    await browser.fetch("http://localhost/read");
    assert.equal(
      opened,
      0,
      "not for a request without a cookie that stores nothing",
    );
    await browser.fetch("http://localhost/write");
    assert.equal(opened, 1);
    assert.equal(
      await (await browser.fetch("http://localhost/read")).json(),
      1,
    );
    assert.equal(opened, 1, "opened once");
  } finally {
    Object.defineProperty(Deno, "openKv", {
      value: original,
      configurable: true,
      writable: true,
    });
  }
});

Deno.test("withSession() without a store fails at once where there is no Deno KV", () => {
  const original = Deno.openKv;
  Object.defineProperty(Deno, "openKv", {
    value: undefined,
    configurable: true,
    writable: true,
  });
  try {
    assert.throws(() => withSession(() => new Response("")), {
      name: "TypeError",
      message: /needs a store on this runtime: pass \{ store: kvStore/,
    });
  } finally {
    Object.defineProperty(Deno, "openKv", {
      value: original,
      configurable: true,
      writable: true,
    });
  }
});

for (const fixture of STORES) {
  Deno.test(`withSession() expires sessions and limits last-seen writes (${fixture.name})`, async (t) => {
    const { store: inner, close } = await fixture.open();
    try {
      await t.step("idleTimeout ends an unused session", async () => {
        const browser = new Browser(
          withSession(
            (req) => (req.method === "POST" ? setter("a", 1) : reader)(req),
            {
              store: inner,
              // Long enough that a stalled machine cannot idle it out
              // between the two first requests.
              idleTimeout: 300,
              allowShortTimeouts: true,
              touchInterval: 0,
            },
          ),
        );
        await browser.fetch("http://localhost/", { method: "POST" });
        assert.deepEqual(
          await (await browser.fetch("http://localhost/")).json(),
          { keys: ["a"] },
        );
        await sleep(450);
        assert.deepEqual(
          await (await browser.fetch("http://localhost/")).json(),
          { keys: [] },
        );
      });

      await t.step(
        "activity within idleTimeout keeps a session alive",
        async () => {
          const browser = new Browser(
            withSession(
              (req) => (req.method === "POST" ? setter("a", 1) : reader)(req),
              {
                store: inner,
                idleTimeout: 400,
                allowShortTimeouts: true,
                touchInterval: 1,
              },
            ),
          );
          await browser.fetch("http://localhost/", { method: "POST" });
          // Three idle gaps of 150 ms outlast no timeout; together, 450 ms
          // outlast the 400 ms one, so only the touches keep it alive.
          for (let i = 0; i < 3; i++) {
            await sleep(150);
            assert.deepEqual(
              await (await browser.fetch("http://localhost/")).json(),
              { keys: ["a"] },
            );
          }
        },
      );

      await t.step("absoluteTimeout ends a session however busy", async () => {
        const browser = new Browser(
          withSession(
            (req) => (req.method === "POST" ? setter("a", 1) : reader)(req),
            {
              store: inner,
              absoluteTimeout: 400,
              allowShortTimeouts: true,
              touchInterval: 0,
            },
          ),
        );
        const created = Date.now();
        await browser.fetch("http://localhost/", { method: "POST" });
        for (let i = 0; i < 3; i++) {
          await sleep(20);
          if (Date.now() - created > 350) break; // a slow machine: skip ahead
          assert.deepEqual(
            await (await browser.fetch("http://localhost/")).json(),
            { keys: ["a"] },
          );
        }
        await sleep(Math.max(0, created + 450 - Date.now()));
        assert.deepEqual(
          await (await browser.fetch("http://localhost/")).json(),
          { keys: [] },
        );
      });

      await t.step(
        "read-only requests write last-seen at most once per touchInterval",
        async () => {
          const store = counting(inner);
          const browser = new Browser(
            withSession(
              (req) => (req.method === "POST" ? setter("a", 1) : reader)(req),
              {
                store,
                touchInterval: 50,
              },
            ),
          );
          await browser.fetch("http://localhost/", { method: "POST" });
          const afterCreate = store.commits.length;
          for (let i = 0; i < 5; i++) await browser.fetch("http://localhost/");
          assert.equal(
            store.commits.length,
            afterCreate,
            "no writes within the interval",
          );
          await sleep(60);
          await browser.fetch("http://localhost/");
          assert.equal(
            store.commits.length,
            afterCreate + 1,
            "one touch after it",
          );
          assert.ok(
            store.commits.every((c) =>
              c.sets.every((s) =>
                (s.expireIn ?? 0) > 0 && s.expireIn! <= 3_600_000
              )
            ),
          );
        },
      );

      await t.step(
        "markChanged() forces a save of values changed in place",
        async () => {
          const store = counting(inner);
          const browser = new Browser(withSession((req) => {
            const s = getSession(req);
            if (req.method === "POST") s.set("o", { n: 1 });
            else if (req.url.endsWith("/mark")) {
              s.get("o");
              s.markChanged();
            }
            return new Response("");
          }, { store }));
          await browser.fetch("http://localhost/", { method: "POST" });
          const before = store.commits.length;
          await browser.fetch("http://localhost/plain");
          assert.equal(store.commits.length, before);
          await browser.fetch("http://localhost/mark");
          assert.equal(store.commits.length, before + 1);
        },
      );
    } finally {
      close();
    }
  });

  Deno.test(`withSession() saves racing requests without losing writes (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    const countSessions = async () =>
      (await collect(store.list(["session"]))).length;
    try {
      await t.step(
        "50 parallel update() increments on one session end at 50",
        async () => {
          const browser = new Browser(withSession((req) => {
            const n = getSession<{ n: number }>(req).update(
              "n",
              (n) => (n ?? 0) + 1,
            );
            return new Response(String(n));
          }, { store }));
          await browser.fetch("http://localhost/");
          const cookie = browser.header("http://localhost/")!;
          const app = browser.fetcher;
          const responses = await Promise.all(
            Array.from(
              { length: 49 },
              () =>
                app(new Request("http://localhost/", { headers: { cookie } })),
            ),
          );
          assert.ok(responses.every((r) => r.status === 200));
          const token = browser.cookies.get("session")!.value;
          assert.equal((await storedRecord(store, token))?.data.n, 50);
        },
      );

      await t.step(
        "two parallel requests setting different keys both survive",
        async () => {
          const hold = gate();
          const browser = new Browser(withSession(async (req) => {
            const s = getSession(req);
            const key = new URL(req.url).searchParams.get("k");
            if (key === "slow") await hold.promise;
            if (key !== null) s.set(key, key);
            return new Response("");
          }, { store }));
          await browser.fetch("http://localhost/?k=first");
          const slow = browser.fetch("http://localhost/?k=slow");
          await browser.fetch("http://localhost/?k=fast");
          hold.open();
          await slow;
          const token = browser.cookies.get("session")!.value;
          assert.deepEqual((await storedRecord(store, token))?.data, {
            first: "first",
            fast: "fast",
            slow: "slow",
          });
        },
      );

      await t.step(
        "a slow write after a parallel destroy() does not bring the session back",
        async () => {
          const hold = gate();
          const browser = new Browser(withSession(async (req) => {
            const s = getSession(req);
            if (req.url.endsWith("/destroy")) await s.destroy();
            else if (req.url.endsWith("/slow")) {
              s.get("a");
              await hold.promise;
              s.set("b", 2);
            } else s.set("a", 1);
            return new Response("");
          }, { store }));
          await browser.fetch("http://localhost/");
          const sessionsBefore = await countSessions();
          const token = browser.cookies.get("session")!.value;
          const slow = browser.fetch("http://localhost/slow");
          await browser.fetch("http://localhost/destroy");
          hold.open();
          const slowRes = await slow;
          assert.equal(slowRes.status, 200);
          assert.deepEqual(
            slowRes.headers.getSetCookie(),
            [],
            "no cookie for a dead session",
          );
          assert.equal(await storedRecord(store, token), null);
          assert.equal(
            await countSessions(),
            sessionsBefore - 1,
            "no session was created in its place",
          );
        },
      );

      await t.step(
        "a slow read-only request never overwrites a parallel write",
        async () => {
          const hold = gate();
          const browser = new Browser(withSession(async (req) => {
            const s = getSession(req);
            if (req.url.endsWith("/slow")) {
              s.get("list");
              await hold.promise;
            } else if (req.url.endsWith("/write")) {
              (s.get("list") as string[]).push("new");
            } else s.set("list", ["old"]);
            return new Response("");
          }, { store, touchInterval: 0 }));
          await browser.fetch("http://localhost/");
          const slow = browser.fetch("http://localhost/slow");
          await browser.fetch("http://localhost/write");
          hold.open();
          await slow;
          const token = browser.cookies.get("session")!.value;
          assert.deepEqual((await storedRecord(store, token))?.data.list, [
            "old",
            "new",
          ]);
        },
      );
    } finally {
      close();
    }
  });
}

Deno.test("withSession() fails closed when the store fails", async (t) => {
  const kv = await Deno.openKv(":memory:");
  const store = faulty(kvStore(kv));
  let handled = 0;
  const errors: unknown[] = [];
  const quiet = (error: unknown) => {
    errors.push(error);
    return new Response("unavailable", { status: 503 });
  };
  const browser = new Browser(withSession((req) => {
    handled++;
    const s = getSession(req);
    if (req.method === "POST") s.update("n", (n = 0) => (n as number) + 1);
    return Response.json(s.get("n") ?? null);
  }, { store, onError: quiet }));
  try {
    await browser.fetch("http://localhost/", { method: "POST" });
    const token = browser.cookies.get("session")!.value;

    await t.step(
      "a read that throws answers 503 and the handler never runs",
      async () => {
        store.onGet = () => new Error("disk on fire");
        const before = handled;
        const res = await browser.fetch("http://localhost/");
        store.onGet = undefined;
        assert.equal(res.status, 503);
        assert.equal(handled, before);
        assert.ok(errors.at(-1) instanceof SessionStoreError);
      },
    );

    await t.step(
      "a write that throws is reported, not answered as saved",
      async () => {
        store.onCommit = () => new Error("disk full");
        const res = await browser.fetch("http://localhost/", {
          method: "POST",
        });
        store.onCommit = undefined;
        assert.equal(res.status, 503);
        assert.ok(errors.at(-1) instanceof SessionStoreError);
        assert.equal((await storedRecord(store, token))?.data.n, 1);
      },
    );

    await t.step(
      "a write that keeps conflicting ends in SessionConflictError",
      async () => {
        store.onCommit = () => "conflict";
        const app = withSession(setter("x", 1), {
          store,
          onError: quiet,
          maxAttempts: 3,
        });
        const res = await app(
          new Request("http://localhost/", {
            headers: { cookie: `session=${token}` },
          }),
        );
        store.onCommit = undefined;
        assert.equal(res.status, 503);
        const error = errors.at(-1);
        assert.ok(error instanceof SessionConflictError);
        assert.equal(error.attempts, 3);
      },
    );

    await t.step(
      "the default onError answers 503 with Retry-After",
      async () => {
        store.onGet = () => new Error("disk on fire");
        const original = console.error;
        console.error = () => {};
        try {
          const res = await withSession(reader, { store })(
            new Request("http://localhost/", {
              headers: { cookie: `session=${token}` },
            }),
          );
          assert.equal(res.status, 503);
          assert.equal(res.headers.get("retry-after"), "1");
        } finally {
          console.error = original;
          store.onGet = undefined;
        }
      },
    );

    await t.step(
      "a session over the store's limit fails with SessionTooLargeError and keeps the old data",
      async () => {
        const big = browser.fetch.bind(browser);
        const app = withSession(setter("blob", "x".repeat(70_000)), {
          store,
          onError: quiet,
        });
        const res = await app(
          new Request("http://localhost/", {
            headers: { cookie: `session=${token}` },
          }),
        );
        assert.equal(res.status, 503);
        const error = errors.at(-1);
        assert.ok(error instanceof SessionTooLargeError);
        assert.ok(error.size > 70_000);
        assert.equal(error.limit, 65_536);
        assert.match(error.message, /over the store's limit of 65536 bytes/);
        assert.deepEqual((await storedRecord(store, token))?.data, { n: 1 });
        assert.equal((await big("http://localhost/")).status, 200);
      },
    );
  } finally {
    kv.close();
  }
});

Deno.test("withSession() removes a session emptied by its last value, and its cookie", async (t) => {
  for (const fixture of STORES) {
    await t.step(fixture.name, async () => {
      const { store, close } = await fixture.open();
      try {
        const browser = new Browser(withSession((req) => {
          const s = getSession(req);
          const path = new URL(req.url).pathname;
          if (path === "/set") s.set("a", 1);
          if (path === "/clear") s.clear();
          if (path === "/flash") s.flash("note", "hi");
          if (path === "/take") {
            return Response.json(s.takeFlash("note") ?? null);
          }
          return new Response("");
        }, { store }));
        await browser.fetch("http://localhost/set");
        const token = browser.cookies.get("session")!.value;
        const res = await browser.fetch("http://localhost/clear");
        assert.deepEqual(res.headers.getSetCookie(), [
          "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        ]);
        assert.equal(await storedRecord(store, token), null);

        await browser.fetch("http://localhost/flash");
        const flashToken = browser.cookies.get("session")!.value;
        assert.equal(
          await (await browser.fetch("http://localhost/take")).json(),
          "hi",
        );
        assert.equal(browser.cookies.size, 0, "the message was all it held");
        assert.equal(await storedRecord(store, flashToken), null);
      } finally {
        close();
      }
    });
  }
});
