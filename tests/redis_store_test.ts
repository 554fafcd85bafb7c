// redisStore's own behaviour on a real redis-server: the layout it promises
// (one string per session, a sorted set per user under a hashed key), the
// EVALSHA→EVAL fallback, RESP3 replies, byte values and refused keys. The
// SessionStore contract itself is in the shared conformance suite.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createClient } from "redis";
import {
  getSession,
  listSessions,
  type RedisClientLike,
  redisStore,
  revokeUserSessions,
  withSession,
} from "../mod.ts";
import { collect } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A node-redis client on a fresh server, the commands it sent, and disposal. */
async function redis(resp: 2 | 3 = 2) {
  const server = await startRedis();
  const r = await createClient({ url: server.url, RESP: resp }).connect();
  const sent: string[] = [];
  const client: RedisClientLike = {
    send(command, args) {
      sent.push(command);
      return r.sendCommand([command, ...args]);
    },
  };
  return {
    r,
    client,
    sent,
    async close() {
      r.destroy();
      await server.stop();
    },
  };
}

function userKey(user: string): string {
  return `tessera:user:{${
    createHash("sha256").update(user).digest("base64url")
  }}`;
}

Deno.test("redisStore: a session is one string key and a user's index a sorted set scored by the session's hard end", async () => {
  const { r, client, close } = await redis();
  try {
    const store = redisStore(client);
    const absoluteTimeout = 120_000;
    const app = withSession(async (req) => {
      const session = getSession(req);
      await session.login("ada {x}:*/");
      session.set("n", 1);
      return new Response("ok");
    }, { store, absoluteTimeout });
    const before = Date.now();
    const res = await app(new Request("http://localhost/"));
    assert.equal(res.status, 200);
    const keys = (await r.keys("*")).sort();
    const user = userKey("ada {x}:*/");
    assert.equal(keys.length, 3, `keys: ${keys}`);
    assert.ok(keys.includes(user) && keys.includes(`${user}:data`));
    const session = keys.find((k) => k.startsWith("tessera:session/"))!;
    assert.equal(await r.type(session), "string");
    assert.equal(await r.type(user), "zset");
    const [member] = await r.zRange(user, 0, -1);
    assert.equal(`tessera:session/${member}`, session);
    const score = Number(await r.zScore(user, member!));
    assert.ok(
      score >= before + absoluteTimeout - 5_000 &&
        score <= Date.now() + absoluteTimeout + 5_000,
      `the score ${score} is the session's hard end`,
    );
    assert.ok(await r.pTTL(session) > 0, "the session expires (GC only)");
    assert.ok(await r.pTTL(user) > 0, "the index expires with its last member");
    const listed = await listSessions(store, "ada {x}:*/");
    assert.deepEqual(listed.map((s) => s.id), [member]);
    assert.equal(await revokeUserSessions(store, "ada {x}:*/"), 1);
    assert.deepEqual(await r.keys("*"), [], "nothing is left behind");
  } finally {
    await close();
  }
});

Deno.test("redisStore: an index member past its hard end is not listed, checks as absent, and is dropped by the next commit", async () => {
  const { r, client, close } = await redis();
  try {
    const store = redisStore(client);
    const key = ["user", "u", "old"];
    const stamp = await store.commit({
      checks: [],
      sets: [{ key, value: bytes("x"), expireIn: 50 }],
      deletes: [],
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.deepEqual(await collect(store.list(["user", "u"])), []);
    assert.equal(await store.get(key), null);
    assert.equal(
      await store.commit({
        checks: [{ key, versionstamp: stamp }],
        sets: [],
        deletes: [],
      }),
      null,
      "an expired member checks as absent",
    );
    await store.commit({
      checks: [],
      sets: [{
        key: ["user", "u", "new"],
        value: bytes("y"),
        expireIn: 60_000,
      }],
      deletes: [],
    });
    assert.deepEqual(await r.zRange(userKey("u"), 0, -1), ["new"]);
    assert.deepEqual(
      (await r.hKeys(`${userKey("u")}:data`)).sort(),
      ["", "new"],
      "the hash keeps the user id and the live member only",
    );
  } finally {
    await close();
  }
});

Deno.test("redisStore: a server that lost its script cache gets the script by EVAL, then EVALSHA again", async () => {
  const { r, client, sent, close } = await redis();
  try {
    const store = redisStore(client);
    const key = ["session", "s"];
    await store.commit({
      checks: [],
      sets: [{ key, value: bytes("1") }],
      deletes: [],
    });
    assert.deepEqual(sent, ["EVALSHA", "EVAL"], "first use: NOSCRIPT, EVAL");
    await r.scriptFlush();
    sent.length = 0;
    const stamp = await store.commit({
      checks: [{ key, versionstamp: (await store.get(key))!.versionstamp }],
      sets: [{ key, value: bytes("2") }],
      deletes: [],
    });
    assert.notEqual(stamp, null);
    assert.deepEqual(sent, ["GET", "EVALSHA", "EVAL"]);
    sent.length = 0;
    await store.commit({
      checks: [],
      sets: [{ key, value: bytes("3") }],
      deletes: [],
    });
    assert.deepEqual(sent, ["EVALSHA"], "cached again: one round trip");
  } finally {
    await close();
  }
});

Deno.test("redisStore: versionstamps are random per commit and increase per key", async () => {
  const { client, close } = await redis();
  try {
    const store = redisStore(client);
    const stamps: string[] = [];
    for (let i = 0; i < 20; i++) {
      stamps.push(
        (await store.commit({
          checks: [],
          sets: [{ key: ["session", "k"], value: bytes(String(i)) }],
          deletes: [],
        }))!,
      );
    }
    assert.ok(stamps.every((s) => /^[0-9a-f]{32}$/.test(s)));
    assert.ok(stamps.every((s, i) => i === 0 || s > stamps[i - 1]!));
    assert.equal(new Set(stamps.map((s) => s.slice(16))).size, 20);
  } finally {
    await close();
  }
});

Deno.test("redisStore: bytes that are not UTF-8 round-trip exactly", async () => {
  const { client, close } = await redis();
  try {
    const store = redisStore(client);
    const value = Uint8Array.from({ length: 256 }, (_, i) => i);
    await store.commit({
      checks: [],
      sets: [{ key: ["session", "bin"], value }, {
        key: ["user", "u", "bin"],
        value,
      }],
      deletes: [],
    });
    assert.deepEqual((await store.get(["session", "bin"]))!.value, value);
    assert.deepEqual((await store.get(["user", "u", "bin"]))!.value, value);
    const text = bytes('{"name":"Zoë 🦕"}');
    await store.commit({
      checks: [],
      sets: [{ key: ["session", "text"], value: text }],
      deletes: [],
    });
    assert.deepEqual((await store.get(["session", "text"]))!.value, text);
  } finally {
    await close();
  }
});

Deno.test("redisStore: RESP3 replies (as Bun's client gives them) work the same", async () => {
  const { client, close } = await redis(3);
  try {
    const store = redisStore(client);
    const key = ["user", "u", "s1"];
    const stamp = await store.commit({
      checks: [{ key, versionstamp: null }],
      sets: [{ key, value: bytes("a"), expireIn: 60_000 }],
      deletes: [],
    });
    assert.equal(typeof stamp, "string");
    assert.equal(
      await store.commit({
        checks: [{ key, versionstamp: null }],
        sets: [],
        deletes: [],
      }),
      null,
      "a failed check is null over RESP3 too",
    );
    assert.deepEqual(
      (await collect(store.list(["user", "u"]))).map((e) => e.versionstamp),
      [stamp],
    );
    assert.equal((await collect(store.list([]))).length, 1);
  } finally {
    await close();
  }
});

Deno.test("redisStore: misuse is refused with a clear error", async (t) => {
  await t.step("a client without send()", () => {
    assert.throws(
      () => redisStore({} as RedisClientLike),
      /redisStore\(\) needs a client with send/,
    );
  });
  await t.step("options out of range", () => {
    const client = { send: () => Promise.resolve(null) };
    assert.throws(
      () => redisStore(client, { maxValueBytes: 0 }),
      RangeError,
    );
    assert.throws(
      () => redisStore(client, { prefix: 1 as unknown as string }),
      TypeError,
    );
  });
  await t.step(
    'a key under "user" that is not [user, id, session]',
    async () => {
      const store = redisStore({ send: () => Promise.resolve(null) });
      await assert.rejects(
        store.commit({
          checks: [],
          sets: [{ key: ["user", "u"], value: bytes("x") }],
          deletes: [],
        }),
        RangeError,
      );
    },
  );
});
