// Bun.serve with a wrapped handler that upgrades (`if (server.upgrade(req))
// return;`): the upgrade works, and the socket changes the session through
// session.save(), read back over HTTP.
import assert from "node:assert/strict";
import {
  getSession,
  memoryStore,
  type Session,
  withSession,
} from "../../mod.ts";
import { CookieJar, network } from "../conformance/_util.ts";
import {
  Bun,
  type BunServer,
  type BunServerWebSocket,
  type BunTest,
} from "./_bun.ts";

// `bun test` resolves this free name to bun:test's `test`.
declare const test: BunTest;

type Data = { messages: number; visits: number };

/** Bun's WebSocket client, which also takes request headers. */
const BunWebSocket = WebSocket as unknown as new (
  url: string,
  options: { headers: Record<string, string> },
) => WebSocket;

test("Bun.serve: server.upgrade() in a wrapped handler, session.save() in the socket's message handler", async () => {
  const app = withSession((req: Request, server: BunServer) => {
    const session = getSession<Data>(req);
    if (new URL(req.url).pathname === "/ws") {
      if (server.upgrade(req, { data: session })) return;
      return new Response("upgrade failed", { status: 400 });
    }
    session.update("visits", (n = 0) => n + 1);
    return Response.json({
      messages: session.get("messages") ?? 0,
      visits: session.get("visits"),
    });
  }, { store: memoryStore() });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: app,
    websocket: {
      async message(ws: BunServerWebSocket<Session<Data>>) {
        const session = ws.data;
        try {
          await session.save(() => {
            session.update("messages", (n = 0) => n + 1);
          });
          ws.send(String(session.get("messages")));
        } catch (error) {
          ws.send(`error: ${error}`);
        }
      },
    } as never,
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const jar = new CookieJar(network);
    await jar.text(`${base}/`);
    const ws = new BunWebSocket(`ws://127.0.0.1:${server.port}/ws`, {
      headers: { cookie: jar.header(base)! },
    });
    const replies: string[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${replies.length} replies in 20 s`)),
          20_000,
        );
        ws.onopen = () => {
          for (let i = 0; i < 3; i++) ws.send(`m${i}`);
        };
        ws.onmessage = (event) => {
          replies.push(String(event.data));
          if (replies.length === 3) {
            clearTimeout(timer);
            resolve();
          }
        };
        ws.onerror = () => {
          clearTimeout(timer);
          reject(new Error("WebSocket error"));
        };
      });
    } finally {
      ws.close();
    }
    assert.deepEqual(replies, ["1", "2", "3"]);
    const res = await jar.fetch(`${base}/`);
    assert.deepEqual(await res.json(), { messages: 3, visits: 2 });
  } finally {
    await server.stop(true);
  }
});

test("Bun.serve: an upgrading handler that creates a session is told the cookie cannot be sent", async () => {
  const errors: unknown[] = [];
  const app = withSession((req: Request, server: BunServer) => {
    getSession<Data>(req).set("messages", 0); // a new session: needs a cookie
    if (server.upgrade(req, { data: null })) return;
    return new Response("upgrade failed", { status: 400 });
  }, { store: memoryStore() });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) =>
      app(req, srv).catch((error) => {
        errors.push(error);
        return undefined;
      }),
    websocket: { message() {} } as never,
  });
  try {
    const ws = new BunWebSocket(`ws://127.0.0.1:${server.port}/ws`, {
      headers: {},
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onerror = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    ws.close();
    // The save runs after the upgrade: wait for its answer, bounded.
    for (let i = 0; i < 100 && errors.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TypeError);
    assert.match(
      (errors[0] as TypeError).message,
      /returned no Response \(a WebSocket upgrade\?\)/,
    );
  } finally {
    await server.stop(true);
  }
});
