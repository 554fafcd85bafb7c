// The SessionStore contract: what withSession relies on of every store.
import assert from "node:assert/strict";
import { collect, type StoreFixture, type Test, withStore } from "./_util.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

/** Registers the store contract tests for one store. */
export function storeSuite(test: Test, fixture: StoreFixture): void {
  const it = (name: string, fn: Parameters<typeof withStore>[1]) =>
    test(`${fixture.name} store: ${name}`, () => withStore(fixture, fn));

  it("get() of an absent key is null", async (store) => {
    assert.equal(await store.get(["session", "absent"]), null);
  });

  it("a create checked against null stores the bytes once", async (store) => {
    const key = ["session", "a"];
    const stamp = await store.commit({
      checks: [{ key, versionstamp: null }],
      sets: [{ key, value: bytes("one"), expireIn: 60_000 }],
      deletes: [],
    });
    assert.equal(typeof stamp, "string");
    const entry = await store.get(key);
    assert.ok(entry!.value instanceof Uint8Array, "values are bytes");
    assert.equal(text(entry!.value), "one");
    assert.equal(entry!.versionstamp, stamp);
    assert.deepEqual([...entry!.key], key);
    const again = await store.commit({
      checks: [{ key, versionstamp: null }],
      sets: [{ key, value: bytes("two") }],
      deletes: [],
    });
    assert.equal(again, null);
    assert.equal(text((await store.get(key))!.value), "one");
  });

  it("a stale versionstamp fails the whole commit", async (store) => {
    const key = ["session", "b"];
    const other = ["session", "c"];
    const first = await store.commit({
      checks: [],
      sets: [{ key, value: bytes("v1") }, {
        key: other,
        value: bytes("keep"),
      }],
      deletes: [],
    });
    const second = await store.commit({
      checks: [{ key, versionstamp: first }],
      sets: [{ key, value: bytes("v2") }],
      deletes: [],
    });
    assert.notEqual(second, null);
    assert.notEqual(second, first);
    assert.ok(second! > first!, "versionstamps increase");
    const stale = await store.commit({
      checks: [{ key, versionstamp: first }],
      sets: [{ key, value: bytes("v3") }],
      deletes: [other],
    });
    assert.equal(stale, null);
    assert.equal(text((await store.get(key))!.value), "v2");
    assert.equal(
      text((await store.get(other))!.value),
      "keep",
      "the delete was not applied",
    );
  });

  it("one failing check among several fails the commit", async (store) => {
    const a = ["session", "multi-a"];
    const b = ["session", "multi-b"];
    const stampA = await store.commit({
      checks: [],
      sets: [{ key: a, value: bytes("a") }],
      deletes: [],
    });
    assert.equal(
      await store.commit({
        checks: [{ key: a, versionstamp: stampA }, {
          key: b,
          versionstamp: "00000000000000000001",
        }],
        sets: [{ key: b, value: bytes("b") }],
        deletes: [a],
      }),
      null,
    );
    assert.equal(await store.get(b), null);
    assert.equal(text((await store.get(a))!.value), "a");
  });

  it("delete removes a key, which then checks as absent", async (store) => {
    const key = ["session", "d"];
    await store.commit({
      checks: [],
      sets: [{ key, value: bytes("x") }],
      deletes: [],
    });
    assert.notEqual(
      await store.commit({ checks: [], sets: [], deletes: [key] }),
      null,
    );
    assert.equal(await store.get(key), null);
    assert.notEqual(
      await store.commit({
        checks: [{ key, versionstamp: null }],
        sets: [],
        deletes: [],
      }),
      null,
    );
  });

  it("stored bytes are a copy of the caller's buffer", async (store) => {
    const key = ["session", "e"];
    const value = bytes("abc");
    await store.commit({ checks: [], sets: [{ key, value }], deletes: [] });
    value[0] = 0x7a;
    assert.equal(text((await store.get(key))!.value), "abc");
  });

  it("bytes read are a copy: changing them does not change the store", async (store) => {
    const key = ["session", "e2"];
    await store.commit({
      checks: [],
      sets: [{ key, value: bytes("abc") }],
      deletes: [],
    });
    (await store.get(key))!.value[0] = 0x7a;
    assert.equal(text((await store.get(key))!.value), "abc");
    for await (const entry of store.list(["session"])) entry.value.fill(0x7a);
    assert.equal(text((await store.get(key))!.value), "abc");
  });

  it("a value over maxValueBytes is refused and nothing is written", async (store) => {
    assert.equal(store.maxValueBytes, 65_536);
    const key = ["session", "f"];
    await assert.rejects(store.commit({
      checks: [],
      sets: [{ key, value: new Uint8Array(store.maxValueBytes + 1) }],
      deletes: [],
    }));
    assert.equal(await store.get(key), null);
  });

  it("a value of exactly maxValueBytes is stored", async (store) => {
    const key = ["session", "g"];
    const value = new Uint8Array(store.maxValueBytes).fill(7);
    assert.notEqual(
      await store.commit({ checks: [], sets: [{ key, value }], deletes: [] }),
      null,
    );
    const entry = await store.get(key);
    assert.equal(entry!.value.byteLength, store.maxValueBytes);
    assert.equal(entry!.value[store.maxValueBytes - 1], 7);
  });

  it("list() yields the entries under a prefix, in key order", async (store) => {
    for (const id of ["s2", "s1", "s3"]) {
      await store.commit({
        checks: [],
        sets: [{ key: ["user", "u1", id], value: bytes(id) }],
        deletes: [],
      });
    }
    await store.commit({
      checks: [],
      sets: [{ key: ["user", "u2", "s9"], value: bytes("s9") }],
      deletes: [],
    });
    const listed = await collect(store.list(["user", "u1"]));
    assert.deepEqual(listed.map((e) => [...e.key]), [
      ["user", "u1", "s1"],
      ["user", "u1", "s2"],
      ["user", "u1", "s3"],
    ]);
    assert.deepEqual(listed.map((e) => text(e.value)), ["s1", "s2", "s3"]);
    await store.commit({
      checks: [],
      sets: [],
      deletes: [["user", "u1", "s2"]],
    });
    assert.equal((await collect(store.list(["user", "u1"]))).length, 2);
    assert.deepEqual(await collect(store.list(["user", "nobody"])), []);
  });

  it("a session's key of any text is its own, and list() finds it under its prefix only", async (store) => {
    const keys = [
      ["session", "ab", "x"],
      ["session", "a:b"],
      ["session", "ab"],
      ["sessions", "ab"],
    ];
    for (const key of keys) {
      await store.commit({
        checks: [{ key, versionstamp: null }],
        sets: [{ key, value: bytes(key.join("|")) }],
        deletes: [],
      });
    }
    for (const key of keys) {
      assert.equal(text((await store.get(key))!.value), key.join("|"));
    }
    assert.deepEqual(
      (await collect(store.list(["session"]))).map((e) => [...e.key]),
      [["session", "a:b"], ["session", "ab"], ["session", "ab", "x"]],
    );
    assert.deepEqual(
      (await collect(store.list(["session", "ab"]))).map((e) => [...e.key]),
      [["session", "ab", "x"]],
    );
    await store.commit({ checks: [], sets: [], deletes: [["session", "ab"]] });
    assert.equal(await store.get(["session", "ab"]), null);
    assert.notEqual(await store.get(["session", "ab", "x"]), null);
    assert.equal(
      (await collect(store.list(["session"]))).length,
      2,
      "the other two session keys are still listed",
    );
  });
}
