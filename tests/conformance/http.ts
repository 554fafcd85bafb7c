// withSession behind the runtime's own HTTP server, on loopback.
import assert from "node:assert/strict";
import { getSession, withSession } from "../../mod.ts";
import {
  barrier,
  CookieJar,
  type Listen,
  network,
  storedRecord,
  type StoreFixture,
  type Test,
  withStore,
} from "./_util.ts";

type Data = { visits: number; language: string };

/** Registers the HTTP tests for one store. */
export function httpSuite(
  test: Test,
  fixture: StoreFixture,
  listen: Listen,
): void {
  test(`${fixture.name} http: sessions over the runtime's server on loopback`, () =>
    withStore(fixture, async (store) => {
      const parallel = 6;
      const arrive = barrier(parallel);
      const server = await listen(withSession(async (req) => {
        const session = getSession<Data>(req);
        const url = new URL(req.url);
        switch (url.pathname) {
          case "/":
            return new Response(
              `visit ${session.update("visits", (n = 0) => n + 1)}`,
            );
          case "/parallel":
            await arrive();
            session.update("visits", (n = 0) => n + 1);
            return new Response("ok");
          case "/language":
            session.set("language", url.searchParams.get("set")!);
            return new Response("ok");
          case "/login":
            await session.login("ada");
            return new Response(null, {
              status: 303,
              headers: { location: "/me" },
            });
          case "/me":
            return Response.json({
              user: session.userId,
              keys: session.keys(),
            });
          default:
            return new Response("not found", { status: 404 });
        }
      }, { store }));
      try {
        const jar = new CookieJar(network);
        const first = await jar.fetch(`${server.url}/`);
        assert.equal(await first.text(), "visit 1");
        assert.match(first.headers.get("set-cookie") ?? "", /^session=/);
        assert.equal(await jar.text(`${server.url}/`), "visit 2");

        const responses = await Promise.all(
          Array.from(
            { length: parallel },
            () => jar.fetch(`${server.url}/parallel`),
          ),
        );
        for (const res of responses) {
          assert.equal(res.status, 200);
          await res.body?.cancel();
        }
        assert.equal(await jar.text(`${server.url}/`), `visit ${3 + parallel}`);

        await jar.text(`${server.url}/language?set=de`);
        const before = jar.get("session")!;
        const login = await jar.fetch(`${server.url}/login`, {
          method: "POST",
        });
        assert.equal(login.status, 303);
        await login.body?.cancel();
        assert.notEqual(jar.get("session"), before);
        assert.deepEqual(await (await jar.fetch(`${server.url}/me`)).json(), {
          user: "ada",
          keys: ["language"],
        });
        assert.equal(await storedRecord(store, before), null);
      } finally {
        await server.close();
      }
    }));
}
