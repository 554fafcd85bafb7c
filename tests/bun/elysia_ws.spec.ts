// The Elysia plugin wraps every request, a WebSocket upgrade too: on Bun,
// with app.listen(), the upgrade still succeeds and the socket's context
// carries the session the upgrade request came with.
import assert from "node:assert/strict";
import { Elysia } from "elysia";
import { memoryStore } from "../../mod.ts";
import { session } from "../../elysia.ts";
import { CookieJar, network } from "../conformance/_util.ts";
import type { BunTest } from "./_bun.ts";

// `bun test` resolves this free name to bun:test's `test`.
declare const test: BunTest;

/** Bun's WebSocket client, which also takes request headers. */
const BunWebSocket = WebSocket as unknown as new (
  url: string,
  options: { headers: Record<string, string> },
) => WebSocket;

test("Elysia on Bun: a WebSocket upgrade passes the plugin and sees the session", async () => {
  const app = new Elysia()
    .use(session<{ visits: number }>({ store: memoryStore() }))
    .get(
      "/",
      ({ session }) => `visit ${session.update("visits", (n = 0) => n + 1)}`,
    )
    .ws("/ws", {
      message(ws, message) {
        ws.send(`${message} after ${ws.data.session.get("visits")} visits`);
      },
    })
    .listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const base = `http://127.0.0.1:${app.server!.port}`;
    const jar = new CookieJar(network);
    assert.equal(await jar.text(`${base}/`), "visit 1");
    assert.equal(await jar.text(`${base}/`), "visit 2");
    const ws = new BunWebSocket(`ws://127.0.0.1:${app.server!.port}/ws`, {
      headers: { cookie: jar.header(base)! },
    });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("no reply in 5 s")),
          5_000,
        );
        ws.onopen = () => ws.send("hello");
        ws.onmessage = (event) => {
          clearTimeout(timer);
          resolve(String(event.data));
        };
        ws.onerror = () => {
          clearTimeout(timer);
          reject(new Error("WebSocket error"));
        };
      });
      assert.equal(reply, "hello after 2 visits");
    } finally {
      ws.close();
    }
  } finally {
    await app.stop(true);
  }
});
