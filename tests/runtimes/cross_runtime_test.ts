// One database, two runtimes: a session written by Deno is read and updated
// by a Bun process on the same KV file (or the same Redis: node-redis on
// Deno, Bun.redis on Bun), and Deno reads it back.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { kvStore, redisStore, type SessionStore } from "../../mod.ts";
import { startRedis } from "../conformance/_redis.ts";
import { CookieJar, network, tempDir } from "../conformance/_util.ts";
import { crossRuntimeApp } from "./_app.ts";
import { startServer, tool } from "./_process.ts";

type Read = {
  runtime: string;
  isNew: boolean;
  user: string | null;
  data: Record<string, unknown>;
};

Deno.test("a session moves between Deno and Bun on one KV file", async () => {
  const dir = tempDir();
  const path = `${dir.path}/sessions.db`;
  const kv = await Deno.openKv(path);
  try {
    await moveBetween(kvStore(kv), path);
  } finally {
    kv.close();
    dir.remove();
  }
});

Deno.test("a session moves between Deno (node-redis) and Bun (Bun.redis) on one Redis", async () => {
  const redis = await startRedis();
  try {
    const r = await createClient({ url: redis.url }).connect();
    try {
      await moveBetween(
        redisStore({ send: (c, a) => r.sendCommand([c, ...a]) }),
        redis.url,
      );
    } finally {
      r.destroy();
    }
  } finally {
    await redis.stop();
  }
});

/** The scenario: Deno serves in process on `store`; Bun is started on
 * `bunStore` (a KV file path or a redis:// URL) naming the same data. */
async function moveBetween(store: SessionStore, bunStore: string) {
  const deno = crossRuntimeApp(store, "Deno");
  let bun: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    // One browser, whose requests a load balancer sends to either runtime.
    const viaDeno = new CookieJar(deno);
    const ask = async (jar: CookieJar, url: string) =>
      await (await jar.fetch(url)).json();

    // Deno creates the session.
    await ask(viaDeno, "http://localhost/language?set=de");
    assert.deepEqual(await ask(viaDeno, "http://localhost/visit"), {
      runtime: "Deno",
      visits: 1,
    });
    const first = viaDeno.get("session")!;

    bun = await startServer(tool("bun"), [
      "tests/runtimes/_bun_server.ts",
      bunStore,
    ]);
    const viaBun = viaDeno.clone(network);
    const origin = bun.url;

    // Bun reads it and updates it.
    const read: Read = await ask(viaBun, `${origin}/read`);
    assert.match(read.runtime, /^Bun /);
    assert.deepEqual({ ...read, runtime: "Bun" }, {
      runtime: "Bun",
      isNew: false,
      user: null,
      data: { language: "de", visits: 1, last: "Deno" },
    });
    assert.equal((await ask(viaBun, `${origin}/visit`)).visits, 2);

    // Deno reads Bun's update.
    assert.deepEqual((await ask(viaDeno, "http://localhost/read")).data, {
      language: "de",
      visits: 2,
      last: read.runtime,
    });

    // Bun rotates the token on login; Deno honours the new token only.
    assert.equal((await ask(viaBun, `${origin}/login?user=ada`)).user, "ada");
    const second = viaBun.get("session")!;
    assert.notEqual(second, first);
    const stale = new CookieJar(deno);
    stale.cookies.set("session", { value: first, secure: false });
    assert.equal((await ask(stale, "http://localhost/read")).isNew, true);
    viaDeno.cookies.set("session", { value: second, secure: false });
    assert.deepEqual(await ask(viaDeno, "http://localhost/read"), {
      runtime: "Deno",
      isNew: false,
      user: "ada",
      data: { language: "de" },
    });

    // Both runtimes increment at once: every increment counts.
    const rounds = 4;
    await Promise.all(
      Array.from({ length: rounds }, () => [
        viaDeno.fetch("http://localhost/visit").then((r) => r.json()),
        viaBun.fetch(`${origin}/visit`).then((r) => r.json()),
      ]).flat(),
    );
    const after: Read = await ask(viaDeno, "http://localhost/read");
    assert.equal(after.data.visits, 2 * rounds);

    // Deno logs out; Bun sees the logout.
    assert.equal((await ask(viaDeno, "http://localhost/logout")).user, null);
    const third = viaDeno.get("session")!;
    viaBun.cookies.set("session", { value: third, secure: false });
    assert.deepEqual(
      await ask(viaBun, `${origin}/read`).then((r: Read) => r.data),
      {
        language: "de",
      },
    );
    const old = new CookieJar(network);
    old.cookies.set("session", { value: second, secure: false });
    assert.equal((await ask(old, `${origin}/read`)).isNew, true);
  } catch (error) {
    if (bun !== undefined) console.error(`Bun server output:\n${bun.output()}`);
    throw error;
  } finally {
    await bun?.close();
  }
}
