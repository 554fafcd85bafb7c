// defineSession(): the session type and options declared once. The
// `@ts-expect-error` lines are type-level tests, checked by `deno task check`
// and by `deno test`: each must be a type error, or the check fails.
import assert from "node:assert/strict";
import {
  currentSession,
  defineSession,
  getSession,
  memoryStore,
  type Session,
  withSession,
} from "../mod.ts";
import { Browser, counting } from "./_helpers.ts";
import type { BunRequest } from "./bun/_bun.ts";

type Data = { visits: number; language: string };

Deno.test("defineSession(): every call site gets the one declared type", async () => {
  const sessions = defineSession<Data>({ store: memoryStore() });
  function language(): string {
    // A second call site, far from the handler: the same type, unstated.
    const session: Session<Data> = sessions.current();
    // Type errors in closures that never run.
    // @ts-expect-error "language" is a string in the declared type
    (() => session.set("language", 42));
    return session.get("language") ?? "en";
  }
  const app = sessions.handler((req) => {
    const session = sessions.get(req);
    const visits: number = session.update("visits", (n = 0) => n + 1);
    (() => {
      // @ts-expect-error a mismatched session type at this call site
      const other: Session<{ visits: string }> = sessions.get(req);
      // @ts-expect-error the getter takes no type argument to get wrong
      sessions.get<{ visits: string }>(req);
      // @ts-expect-error "cart" is not a key of the declared type
      session.get("cart");
      return other;
    });
    return new Response(`visit ${visits} (${language()})`);
  });
  const browser = new Browser(app);
  assert.equal(await browser.text("http://localhost/"), "visit 1 (en)");
  assert.equal(await browser.text("http://localhost/"), "visit 2 (en)");
});

Deno.test("defineSession(): handlers share one store and keep their request type and extra arguments", async () => {
  const store = counting(memoryStore());
  const sessions = defineSession<Data>({ store });
  const set = sessions.handler((req: BunRequest<"/lang/:id">, info: string) => {
    sessions.get(req).set("language", req.params.id);
    return new Response(info);
  });
  const read = sessions.handler((req) =>
    new Response(sessions.get(req).get("language") ?? "none")
  );
  const browser = new Browser((req) =>
    new URL(req.url).pathname === "/"
      ? read(req)
      : set(Object.assign(req, { params: { id: "de" } }), "info passed")
  );
  assert.equal(await browser.text("http://localhost/lang/de"), "info passed");
  assert.equal(await browser.text("http://localhost/"), "de");
  assert.equal(store.commits.length, 1);
  // The session is the request's: getSession() and currentSession() agree.
  const same = sessions.handler((req) =>
    new Response(String(
      sessions.get(req) === getSession<Data>(req) &&
        sessions.current() === currentSession<Data>(),
    ))
  );
  assert.equal(
    await (await same(new Request("http://localhost/"))).text(),
    "true",
  );
});

Deno.test("defineSession(): refuses a session of another definition or of a bare withSession()", async () => {
  const sessions = defineSession<Data>({ store: memoryStore() });
  const other = defineSession<{ visits: string }>({ store: memoryStore() });
  const errors: string[] = [];
  const probe = (req: Request): Response => {
    for (const read of [() => sessions.get(req), () => sessions.current()]) {
      try {
        read();
        errors.push("none");
      } catch (error) {
        assert.ok(error instanceof TypeError);
        errors.push(error.message);
      }
    }
    return new Response("ok");
  };
  await other.handler(probe)(new Request("http://localhost/"));
  await withSession(probe, { store: memoryStore() })(
    new Request("http://localhost/"),
  );
  assert.equal(errors.length, 4);
  for (const message of errors) {
    assert.match(message, /another withSession\(\) or defineSession\(\)/);
  }
  assert.throws(() => sessions.current(), TypeError);
  assert.throws(
    () => sessions.get(new Request("http://localhost/")),
    TypeError,
  );
});

Deno.test("defineSession(): options are checked once, at definition", () => {
  assert.throws(
    () => defineSession({ store: memoryStore(), idleTimeout: -1 }),
    RangeError,
  );
  const sessions = defineSession({ store: memoryStore() });
  assert.throws(
    () => sessions.handler("not a function" as never),
    /needs a handler function, got not a function/,
  );
  assert.ok(Object.isFrozen(sessions));
});
