// Store faults: fail closed on reads, never a false "saved", report errors.
import assert from "node:assert/strict";
import {
  type KvAtomicLike,
  type KvLike,
  kvStore,
  SessionConflictError,
  type SessionStore,
  SessionStoreError,
} from "../../mod.ts";
import {
  allKeys,
  capturingErrors,
  clearsCookie,
  faulty,
  raceApp,
  readSession,
  REAL_STORES,
  request,
  sessionCookie,
} from "./_support.ts";

const boom = () => new Error("injected store fault");

for (const kind of REAL_STORES) {
  Deno.test(`faults: a read that throws fails closed with 503, the handler never runs (${kind.name})`, async () => {
    const { store: inner, close } = await kind.open();
    try {
      const store = faulty(inner);
      let handled = 0;
      const app = raceApp(store, () => void handled++);
      const cookie = sessionCookie(await app(request("/set?k=a&v=1")))!;
      handled = 0;
      store.onGet = boom;
      const { result: response, logged } = await capturingErrors(() =>
        app(request("/get", cookie))
      );
      assert.equal(response.status, 503);
      await response.body?.cancel();
      assert.equal(handled, 0, "the handler never saw an empty session");
      assert.equal(sessionCookie(response), undefined, "no new cookie");
      assert.ok(!clearsCookie(response), "the cookie is not dropped");
      assert.ok(
        logged.some((args) => args.some((a) => a instanceof SessionStoreError)),
        "the default onError logs the SessionStoreError",
      );
      store.onGet = undefined;
      assert.deepEqual((await readSession(app, cookie)).values, { a: "1" });
    } finally {
      await close();
    }
  });

  Deno.test(`faults: a store whose commit answers without a promise fails through onError with a SessionStoreError (${kind.name})`, async () => {
    const { store: inner, close } = await kind.open();
    try {
      const app = raceApp(inner);
      const cookie = sessionCookie(await app(request("/set?k=a&v=1")))!;
      // A wrapper that breaks the contract: a synchronous versionstamp.
      const broken: SessionStore = {
        ...inner,
        commit: () => "1" as unknown as Promise<string | null>,
      };
      const { result: response, logged } = await capturingErrors(() =>
        raceApp(broken)(request("/set?k=b&v=2", cookie))
      );
      assert.equal(response.status, 503);
      await response.body?.cancel();
      assert.ok(
        logged.some((args) => args.some((a) => a instanceof SessionStoreError)),
        "the default onError logs a SessionStoreError",
      );
      assert.deepEqual((await readSession(app, cookie)).values, { a: "1" });
    } finally {
      await close();
    }
  });

  Deno.test(`faults: a save that throws reaches onError and the client is not told "saved" (${kind.name})`, async (t) => {
    const { store: inner, close } = await kind.open();
    try {
      const store = faulty(inner);
      const errors: unknown[] = [];
      const app = raceApp(store, undefined, {
        onError(error) {
          errors.push(error);
          return new Response("store down", { status: 503 });
        },
      });
      const cookie = sessionCookie(await app(request("/set?k=a&v=1")))!;

      await t.step("an existing session", async () => {
        store.onCommit = boom;
        const response = await app(request("/set?k=a&v=2", cookie));
        store.onCommit = undefined;
        assert.equal(response.status, 503);
        assert.equal(await response.text(), "store down", "not the handler's");
        assert.equal(sessionCookie(response), undefined);
        assert.ok(errors.at(-1) instanceof SessionStoreError);
        assert.deepEqual((await readSession(app, cookie)).values, { a: "1" });
      });

      await t.step("a new session", async () => {
        const before = (await allKeys(inner)).length;
        store.onCommit = boom;
        const response = await app(request("/set?k=b&v=1"));
        store.onCommit = undefined;
        assert.equal(response.status, 503);
        await response.body?.cancel();
        assert.equal(sessionCookie(response), undefined, "no cookie");
        assert.ok(errors.at(-1) instanceof SessionStoreError);
        assert.equal((await allKeys(inner)).length, before, "nothing stored");
      });

      await t.step("a conflict, then a re-read that throws", async () => {
        let commits = 0;
        store.onCommit = () => commits++ === 0 ? "conflict" : undefined;
        store.onGet = () => commits > 0 ? boom() : undefined;
        const response = await app(request("/inc", cookie));
        store.onCommit = store.onGet = undefined;
        assert.equal(response.status, 503);
        await response.body?.cancel();
        assert.ok(errors.at(-1) instanceof SessionStoreError);
        assert.deepEqual((await readSession(app, cookie)).values, { a: "1" });
      });
    } finally {
      await close();
    }
  });

  Deno.test(`faults: a save that keeps conflicting gives up after maxAttempts through onError (${kind.name})`, async (t) => {
    const { store: inner, close } = await kind.open();
    try {
      const store = faulty(inner);
      const errors: unknown[] = [];
      const app = raceApp(store, undefined, {
        maxAttempts: 3,
        onError(error) {
          errors.push(error);
          return new Response("busy", { status: 503 });
        },
      });
      const cookie = sessionCookie(await app(request("/set?k=a&v=1")))!;
      for (
        const [name, cookieFor] of [["existing", cookie], ["new", undefined]]
      ) {
        await t.step(`${name} session`, async () => {
          let commits = 0;
          store.onCommit = () => (commits++, "conflict");
          const response = await app(request("/inc", cookieFor));
          store.onCommit = undefined;
          assert.equal(response.status, 503);
          assert.equal(await response.text(), "busy");
          assert.equal(sessionCookie(response), undefined);
          const error = errors.at(-1);
          assert.ok(error instanceof SessionConflictError, String(error));
          assert.equal(error.attempts, 3);
          assert.equal(commits, 3, "bounded: exactly maxAttempts commits");
        });
      }
      assert.deepEqual((await readSession(app, cookie)).values, { a: "1" });
      assert.equal((await allKeys(inner)).length, 1, "nothing else stored");
    } finally {
      await close();
    }
  });

  for (const end of ["/logout", "/destroy"]) {
    for (const kept of [[], ["a"]]) {
      Deno.test(
        `faults: ${
          end.slice(1)
        }() that the store fails to record reports the error and claims no sign-out (persistentFieldsOnLogout ${
          JSON.stringify(kept)
        }, ${kind.name})`,
        async () => {
          const { store: inner, close } = await kind.open();
          try {
            const store = faulty(inner);
            const errors: unknown[] = [];
            const app = raceApp(store, undefined, {
              persistentFieldsOnLogout: kept,
              clearSiteData: true,
              onError(error) {
                errors.push(error);
                return new Response("store down", { status: 503 });
              },
            });
            const cookie = sessionCookie(await app(request("/set?k=a&v=1")))!;
            store.onCommit = (change) =>
              change.deletes.length > 0 ? boom() : undefined;
            let response: Response | undefined;
            let escaped: unknown;
            try {
              response = await app(request(end, cookie));
            } catch (error) {
              escaped = error;
            }
            store.onCommit = undefined;
            assert.equal(
              escaped,
              undefined,
              `the store error escaped withSession instead of reaching onError: ${escaped}`,
            );
            await response!.body?.cancel();
            assert.ok(
              errors.some((e) => e instanceof SessionStoreError),
              "the error is reported through onError",
            );
            assert.equal(response!.status, 503, "not reported as a success");
            assert.deepEqual(
              response!.headers.getSetCookie(),
              [],
              "no cookie is cleared or replaced: the browser is not told it signed out",
            );
            assert.equal(response!.headers.get("clear-site-data"), null);
            assert.deepEqual(
              (await readSession(app, cookie)).values,
              { a: "1" },
              "the session is still there, as the client still believes",
            );
            // Once the store answers again, the same sign-out goes through.
            const retried = await app(request(end, cookie));
            await retried.body?.cancel();
            assert.equal(retried.status, 200);
            assert.ok(
              end === "/destroy" || kept.length === 0
                ? clearsCookie(retried)
                : sessionCookie(retried) !== cookie,
              "the retry signs out",
            );
            assert.notDeepEqual(
              (await readSession(app, cookie)).values,
              { a: "1" },
              "the old token is dead",
            );
          } finally {
            await close();
          }
        },
      );
    }
  }
}

/** A real Deno KV whose first calls answer "database is locked". */
function lockedKv(kv: Deno.Kv, busy: { get: number; commit: number }): KvLike {
  const locked = () => Promise.reject(new TypeError("database is locked"));
  const wrap = (op: Deno.AtomicOperation): KvAtomicLike => ({
    check: (...checks) => wrap(op.check(...checks)),
    set: (key, value, options) => wrap(op.set(key, value, options)),
    delete: (key) => wrap(op.delete(key)),
    commit: () => busy.commit-- > 0 ? locked() : op.commit(),
  });
  return {
    get: (key) => busy.get-- > 0 ? locked() : kv.get(key),
    atomic: () => wrap(kv.atomic()),
    list: (selector) => kv.list(selector),
  };
}

for (const what of ["get", "commit"] as const) {
  const call = what === "get" ? "reads" : "commits";

  Deno.test(`faults: kvStore retries 'database is locked' ${call} and then succeeds`, async () => {
    const kv = await Deno.openKv(":memory:");
    try {
      const busy = { get: 0, commit: 0 };
      const app = raceApp(kvStore(lockedKv(kv, busy)));
      const cookie = sessionCookie(await app(request("/inc")))!;
      busy[what] = 3;
      const response = await app(request("/inc", cookie));
      assert.equal(response.status, 200, await response.text());
      assert.equal(busy[what], -1, "tried 4 times");
      assert.deepEqual((await readSession(app, cookie)).values, { n: 2 });
    } finally {
      kv.close();
    }
  });

  Deno.test(`faults: kvStore gives up on 'database is locked' ${call} after busyAttempts, through onError`, async () => {
    const kv = await Deno.openKv(":memory:");
    try {
      const busy = { get: 0, commit: 0 };
      const errors: unknown[] = [];
      const app = raceApp(
        kvStore(lockedKv(kv, busy), { busyAttempts: 2 }),
        undefined,
        {
          onError(error) {
            errors.push(error);
            return new Response("busy", { status: 503 });
          },
        },
      );
      const cookie = sessionCookie(await app(request("/inc")))!;
      busy[what] = 1000;
      const response = await app(request("/inc", cookie));
      const tried = 1000 - busy[what];
      busy[what] = 0;
      assert.equal(response.status, 503);
      await response.body?.cancel();
      assert.equal(tried, 2, "exactly busyAttempts tries");
      assert.ok(errors.at(-1) instanceof SessionStoreError);
      assert.deepEqual((await readSession(app, cookie)).values, { n: 1 });
    } finally {
      kv.close();
    }
  });
}
