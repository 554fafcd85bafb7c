// Bun specifics: Bun.serve's fetch and routes forms with withSession, Bun's
// `server` argument passed through, and bunKvOptions with @deno/kv.
import assert from "node:assert/strict";
import { openKv } from "@deno/kv";
import {
  CSRF_FIELD,
  getSession,
  kvStore,
  memoryStore,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";
import { CookieJar, network, tempDir } from "../conformance/_util.ts";
import { Bun, type BunRequest, type BunServer, type BunTest } from "./_bun.ts";

// `bun test` resolves this free name to bun:test's `test`.
declare const test: BunTest;

type Data = { visits: number; user: string };

test("Bun.serve: fetch and routes forms share sessions; server passes through", async () => {
  const dir = tempDir();
  const kv = await openKv(`${dir.path}/sessions.db`, bunKvOptions);
  const store = kvStore(kv);
  const seen: unknown[] = [];
  const counter = withSession((req: Request, server: BunServer) => {
    seen.push(server);
    const visits = getSession<Data>(req).update("visits", (n = 0) => n + 1);
    return new Response(
      `visit ${visits} from ${server.requestIP(req)?.address}`,
    );
  }, { store });
  const user = withSession((req: BunRequest<"/users/:id">) => {
    // Bun's routes give a BunRequest with the route's params; withSession
    // keeps that type.
    const { id } = req.params;
    getSession<Data>(req).set("user", id);
    return new Response(`user ${id}`);
  }, { store });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: { "/users/:id": user },
    fetch: counter,
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const jar = new CookieJar(network);
    assert.equal(await jar.text(`${base}/`), "visit 1 from 127.0.0.1");
    assert.equal(await jar.text(`${base}/users/ada`), "user ada");
    assert.equal(await jar.text(`${base}/`), "visit 2 from 127.0.0.1");
    assert.equal(seen[0], server);
    const check = withSession(
      (req) => Response.json(getSession<Data>(req).get("user") ?? null),
      { store },
    );
    const res = await check(
      new Request(base, { headers: { cookie: jar.header(base)! } }),
    );
    assert.equal(await res.json(), "ada");
  } finally {
    await server.stop(true);
    kv.close();
    dir.remove();
  }
});

test("bunKvOptions: what @deno/kv needs on Bun, bytes only", async () => {
  const dir = tempDir();
  try {
    await assert.rejects(
      openKv(`${dir.path}/no-options.db`),
      /encodeV8/,
      "without options, @deno/kv refuses to open a file on Bun",
    );
    const kv = await openKv(`${dir.path}/sessions.db`, bunKvOptions);
    try {
      await kv.set(["bytes"], new TextEncoder().encode("ok"));
      const entry = await kv.get<Uint8Array>(["bytes"]);
      assert.equal(new TextDecoder().decode(entry.value!), "ok");
      await assert.rejects(
        kv.set(["object"], { not: "bytes" }),
        (error: unknown) =>
          error instanceof TypeError && /bytes only/.test(error.message),
      );
      assert.equal((await kv.get(["object"])).versionstamp, null);
    } finally {
      kv.close();
    }
    assert.ok(Object.isFrozen(bunKvOptions));
    assert.throws(
      () => bunKvOptions.decodeV8(new Uint8Array([0xff, 0x0f, 0x5f])),
      TypeError,
    );
  } finally {
    dir.remove();
  }
});

test("Bun.serve: a form whose _csrf the check read is still the handler's, on Bun's own request (requestIP, params)", async () => {
  const dir = tempDir();
  const kv = await openKv(`${dir.path}/sessions.db`, bunKvOptions);
  try {
    const stores: [string, SessionStore][] = [
      ["kvStore", kvStore(kv)],
      ["memoryStore", memoryStore()],
    ];
    for (const [name, store] of stores) {
      const form = withSession(async (
        req: BunRequest<"/lists/:id">,
        server: BunServer,
      ) => {
        const session = getSession(req);
        if (req.method === "GET") {
          session.set("visited", true);
          return new Response(session.csrfToken());
        }
        const { id } = req.params;
        const item = (await req.formData()).get("item");
        return new Response(
          `${id} ${item} from ${server.requestIP(req)?.address}`,
        );
      }, { store, csrf: true });
      const server = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        routes: { "/lists/:id": form },
      });
      try {
        const base = `http://127.0.0.1:${server.port}`;
        const jar = new CookieJar(network);
        const token = await jar.text(`${base}/lists/groceries`);
        const response = await jar.fetch(`${base}/lists/groceries`, {
          method: "POST",
          headers: { origin: base },
          body: new URLSearchParams({ item: "milk", [CSRF_FIELD]: token }),
        });
        assert.equal(response.status, 200, name);
        assert.equal(await response.text(), "groceries milk from 127.0.0.1");
        const refused = await jar.fetch(`${base}/lists/groceries`, {
          method: "POST",
          headers: { origin: base },
          body: new URLSearchParams({ item: "milk", [CSRF_FIELD]: "wrong" }),
        });
        assert.equal(refused.status, 403, name);
        await refused.body?.cancel();
      } finally {
        await server.stop(true);
      }
    }
  } finally {
    kv.close();
    dir.remove();
  }
});
