// Changing the session after the response: writes that would be lost throw,
// `session.save(change)` stores them (WebSockets, background work).
import assert from "node:assert/strict";
import { getSession, type Session, withSession } from "../mod.ts";
import { Browser, gate, serveLocal, STORES } from "./_helpers.ts";
import { REDIS_STORES } from "./_redis.ts";
import { network } from "./conformance/_util.ts";

type Data = { messages: number; visits: number; note: string };

/** Deno's WebSocket client, which also takes request headers. */
const HeaderWebSocket = WebSocket as unknown as new (
  url: string,
  options: { headers: Record<string, string> },
) => WebSocket;

/** Opens a socket with `cookie`, sends `count` messages, collects replies. */
function exchange(
  url: string,
  cookie: string,
  count: number,
): Promise<string[]> {
  const ws = new HeaderWebSocket(url, { headers: { cookie } });
  const replies: string[] = [];
  return new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`only ${replies.length} replies in 20 s`));
    }, 20_000);
    ws.onopen = () => {
      for (let i = 0; i < count; i++) ws.send(`m${i}`);
    };
    ws.onmessage = (event) => {
      replies.push(String(event.data));
      if (replies.length === count) {
        clearTimeout(timer);
        ws.onclose = () => resolve(replies);
        ws.close();
      }
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error("WebSocket error"));
    };
  });
}

for (const fixture of [...STORES, REDIS_STORES[0]!]) {
  Deno.test(`${fixture.name}: session.save() in a Deno WebSocket's onmessage stores the change, read back over HTTP`, async () => {
    const { store, close } = await fixture.open();
    const app = withSession((req) => {
      const session = getSession<Data>(req);
      const url = new URL(req.url);
      if (url.pathname === "/ws") {
        const { socket, response } = Deno.upgradeWebSocket(req);
        socket.onmessage = async () => {
          try {
            await session.save(() => {
              session.update("messages", (n = 0) => n + 1);
            });
            socket.send(String(session.get("messages")));
          } catch (error) {
            socket.send(`error: ${error}`);
          }
        };
        return response;
      }
      if (url.pathname === "/visit") {
        session.update("visits", (n = 0) => n + 1);
      }
      return Response.json({
        messages: session.get("messages") ?? 0,
        visits: session.get("visits") ?? 0,
      });
    }, { store });
    const server = serveLocal(app);
    try {
      const jar = new Browser(network);
      await jar.text(`${server.origin}/visit`);
      const cookie = jar.header(server.origin)!;
      const replies = await exchange(
        `ws://127.0.0.1:${server.port}/ws`,
        cookie,
        5,
      );
      assert.deepEqual(replies, ["1", "2", "3", "4", "5"]);
      // Messages saved one after another, composing with a request meanwhile.
      assert.deepEqual(
        await (await jar.fetch(`${server.origin}/visit`)).json(),
        {
          messages: 5,
          visits: 2,
        },
      );
    } finally {
      await server.close();
      await close();
    }
  });

  Deno.test(`${fixture.name}: a write after the response throws a TypeError that says to use save()`, async () => {
    const { store, close } = await fixture.open();
    const later = gate();
    let kept: Session<Data> | undefined;
    const app = withSession((req) => {
      kept = getSession<Data>(req);
      kept.set("note", "in the handler");
      return new Response("ok");
    }, { store });
    try {
      const jar = new Browser(app);
      await jar.text("http://localhost/");
      const session = kept!;
      assert.throws(
        () => session.set("note", "after"),
        (error: unknown) =>
          error instanceof TypeError &&
          /after the response was returned/.test(error.message) &&
          /session\.save\(/.test(error.message),
      );
      for (
        const write of [
          () => session.update("visits", (n = 0) => n + 1),
          () => session.delete("note"),
          () => session.clear(),
          () => session.flash("f", 1),
        ]
      ) assert.throws(write, TypeError);
      await assert.rejects(session.login("ada"), TypeError);
      await assert.rejects(session.regenerate(), TypeError);
      // The supported way: inside save(), and stored with a compare-and-swap
      // that composes with a request that changed the session meanwhile.
      const other = withSession((req) => {
        getSession<Data>(req).update("visits", (n = 0) => n + 10);
        return new Response("other");
      }, { store });
      await new Browser(other).fetch("http://localhost/", {
        headers: { cookie: jar.header("http://localhost/")! },
      });
      setTimeout(async () => {
        await session.save(() => {
          session.set("note", "after");
          session.update("visits", (n = 0) => n + 1);
        });
        later.open();
      }, 10);
      await later.promise;
      const read = withSession(
        (req) =>
          Response.json(Object.fromEntries(
            getSession<Data>(req).keys().map((
              k,
            ) => [k, getSession(req).get(k)]),
          )),
        { store },
      );
      assert.deepEqual(
        await new Browser(read).fetch("http://localhost/", {
          headers: { cookie: jar.header("http://localhost/")! },
        }).then((r) => r.json()),
        { note: "after", visits: 11 },
      );
    } finally {
      await close();
    }
  });

  Deno.test(`${fixture.name}: with httpsOnly, save() after the response of an anonymous request refuses it as never stored`, async () => {
    const { store, close } = await fixture.open();
    let kept: Session<Data> | undefined;
    const app = withSession((req) => {
      kept = getSession<Data>(req);
      return new Response("nothing stored");
    }, { store, httpsOnly: true });
    try {
      await app(new Request("https://localhost/"));
      await assert.rejects(
        kept!.save(() => kept!.set("note", "x")),
        (error: unknown) =>
          error instanceof TypeError &&
          /no stored session/.test(error.message),
      );
    } finally {
      await close();
    }
  });

  Deno.test(`${fixture.name}: save() after the response refuses a session that was never stored or has ended`, async () => {
    const { store, close } = await fixture.open();
    let kept: Session<Data> | undefined;
    const app = withSession((req) => {
      kept = getSession<Data>(req);
      if (new URL(req.url).pathname === "/end") {
        return kept.destroy().then(() => new Response("ended"));
      }
      return new Response("nothing stored");
    }, { store });
    try {
      await app(new Request("http://localhost/"));
      await assert.rejects(
        kept!.save(() => kept!.set("note", "x")),
        (error: unknown) =>
          error instanceof TypeError && /no stored session/.test(error.message),
      );
      // Nothing to store: a no-op, no token minted.
      await kept!.save();
      assert.equal(kept!.id, null);
      // A session destroyed by its own request cannot be written to later.
      const create = withSession((req) => {
        getSession<Data>(req).set("note", "stored");
        return new Response("created");
      }, { store });
      const jar = new Browser(create);
      await jar.text("http://localhost/");
      await app(
        new Request("http://localhost/end", {
          headers: { cookie: jar.header("http://localhost/")! },
        }),
      );
      await assert.rejects(
        kept!.save(() => kept!.set("note", "x")),
        /no stored session/,
      );
    } finally {
      await close();
    }
  });
}
