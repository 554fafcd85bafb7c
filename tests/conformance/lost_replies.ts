// Idempotent commits: a store that applies a commit and then reports a
// conflict (a remote client's resend after a lost reply fails its own
// check) or an error. tessera must recognise its own write and never apply
// a request's operations twice — on every store.
import assert from "node:assert/strict";
import { getSession, type Session, withSession } from "../../mod.ts";
import {
  barrier,
  collect,
  CookieJar,
  lossy,
  type LossyStore,
  type LostReply,
  storedRecord,
  type StoreFixture,
  type Test,
  withStore,
} from "./_util.ts";

type Data = { n: number; language: string; x: number };
type Handler = (
  session: Session<Data>,
  request: Request,
) => Response | Promise<Response>;

const HTTP = "http://localhost/";
const ok = () => new Response("ok");

/** An app over a lossy store whose handler can be swapped. */
function lossyApp(store: LossyStore) {
  let handler: Handler = ok;
  const app = withSession(
    (request) => handler(getSession<Data>(request), request),
    { store, persistentFieldsOnLogout: ["language"] },
  );
  return {
    jar: new CookieJar(app),
    handle(next: Handler) {
      handler = next;
    },
  };
}

const increment: Handler = (s) => {
  s.update("n", (n = 0) => n + 1);
  return ok();
};

async function count(store: LossyStore, jar: CookieJar): Promise<unknown> {
  return (await storedRecord(store, jar.get("session")!))?.data.n;
}

async function sessions(store: LossyStore): Promise<number> {
  return (await collect(store.list(["session"]))).length;
}

/** Registers the lost-reply tests for one store. */
export function lostReplySuite(test: Test, fixture: StoreFixture): void {
  for (const mode of ["conflict", "error"] as const satisfies LostReply[]) {
    const it = (name: string, fn: (store: LossyStore) => Promise<void>) =>
      test(
        `${fixture.name} lost replies (applied, reported as ${mode}): ${name}`,
        () =>
          withStore(fixture, async (inner) => {
            const store = lossy(inner);
            store.lose = mode;
            await fn(store);
          }),
      );

    it("N parallel update() increments give exactly N", async (store) => {
      const { jar, handle } = lossyApp(store);
      handle(increment);
      assert.equal((await jar.fetch(HTTP)).status, 200);
      assert.equal(await sessions(store), 1, "the create counted once");
      const n = 12;
      const arrive = barrier(n);
      handle(async (s) => {
        await arrive(); // all load the same version before any saves
        s.update("n", (v = 0) => v + 1);
        return ok();
      });
      const responses = await Promise.all(
        Array.from({ length: n }, () => jar.fetch(HTTP)),
      );
      assert.deepEqual(responses.map((r) => r.status), Array(n).fill(200));
      assert.equal(await count(store, jar), n + 1);
      assert.ok(store.lost >= n + 1, "every applied commit was misreported");
    });

    it("a write recognised after other requests committed on top", async (store) => {
      const { jar, handle } = lossyApp(store);
      handle(increment);
      await jar.fetch(HTTP);
      const other = jar.clone();
      // After the next commit lands and before its reply arrives, eight
      // other requests increment on top of it.
      store.afterApply = async () => {
        const mode = store.lose;
        store.lose = undefined;
        for (let i = 0; i < 8; i++) await other.fetch(HTTP);
        store.lose = mode;
      };
      assert.equal((await jar.fetch(HTTP)).status, 200);
      assert.equal(await count(store, jar), 10, "1 + 1 + 8, none twice");
    });

    it("login(), regenerate() and logout() rotate once", async (store) => {
      const { jar, handle } = lossyApp(store);
      handle((s) => {
        s.set("language", "de");
        return ok();
      });
      await jar.fetch(HTTP);
      const tokens = [jar.get("session")!];
      // login() and logout() keep only the language; regenerate() all.
      for (
        const [step, expected] of [
          [(s: Session<Data>) => s.login("ada"), 1],
          [(s: Session<Data>) => s.regenerate(), 2],
          [(s: Session<Data>) => s.logout(), 1],
        ] as const
      ) {
        handle(async (s) => {
          await step(s);
          s.update("n", (n = 0) => n + 1);
          return ok();
        });
        assert.equal((await jar.fetch(HTTP)).status, 200);
        const token = jar.get("session")!;
        assert.ok(!tokens.includes(token), "a new token");
        for (const old of tokens) {
          assert.equal(await storedRecord(store, old), null, "old token dead");
        }
        tokens.push(token);
        assert.equal(await sessions(store), 1, "exactly one live session");
        assert.equal(
          await count(store, jar),
          expected,
          "the update applied once",
        );
        assert.equal(
          (await storedRecord(store, token))?.data.language,
          "de",
        );
      }
      assert.deepEqual(
        await collect(store.list(["user", "ada"])),
        [],
        "logout left no index entry",
      );
    });

    it("a login's index entry is written once", async (store) => {
      const { jar, handle } = lossyApp(store);
      handle(async (s) => {
        await s.login("ada");
        return ok();
      });
      assert.equal((await jar.fetch(HTTP)).status, 200);
      assert.equal(await sessions(store), 1);
      assert.equal((await collect(store.list(["user", "ada"]))).length, 1);
    });

    it("an emptied session is gone and its cookie cleared", async (store) => {
      const { jar, handle } = lossyApp(store);
      handle((s) => {
        s.set("x", 1);
        return ok();
      });
      await jar.fetch(HTTP);
      handle((s) => {
        s.delete("x");
        return ok();
      });
      assert.equal((await jar.fetch(HTTP)).status, 200);
      assert.equal(jar.get("session"), undefined, "the cookie is cleared");
      assert.equal(await sessions(store), 0);
    });

    it("destroy() and a logout that keeps nothing end the session", async (store) => {
      const { jar, handle } = lossyApp(store);
      for (
        const end of [
          (s: Session<Data>) => s.destroy(),
          (s: Session<Data>) => s.logout(),
        ]
      ) {
        handle((s) => {
          s.set("x", 1);
          return ok();
        });
        await jar.fetch(HTTP);
        assert.equal(await sessions(store), 1);
        handle(async (s) => {
          await end(s);
          return ok();
        });
        assert.equal((await jar.fetch(HTTP)).status, 200);
        assert.equal(jar.get("session"), undefined, "the cookie is cleared");
        assert.equal(await sessions(store), 0);
      }
    });
  }
}
