// One suite for every SessionStore: the semantics withSession relies on.
import assert from "node:assert/strict";
import { collect, STORES } from "./_helpers.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

for (const fixture of STORES) {
  Deno.test(`${fixture.name} conforms to the SessionStore contract`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      await t.step("get() of an absent key is null", async () => {
        assert.equal(await store.get(["session", "absent"]), null);
      });

      await t.step("a create checked against null stores the bytes once", async () => {
        const key = ["session", "a"];
        const stamp = await store.commit({
          checks: [{ key, versionstamp: null }],
          sets: [{ key, value: bytes("one"), expireIn: 60_000 }],
          deletes: [],
        });
        assert.equal(typeof stamp, "string");
        const entry = await store.get(key);
        assert.equal(text(entry!.value), "one");
        assert.equal(entry!.versionstamp, stamp);
        const again = await store.commit({
          checks: [{ key, versionstamp: null }],
          sets: [{ key, value: bytes("two") }],
          deletes: [],
        });
        assert.equal(again, null);
        assert.equal(text((await store.get(key))!.value), "one");
      });

      await t.step("a stale versionstamp fails the whole commit", async () => {
        const key = ["session", "b"];
        const other = ["session", "c"];
        const first = await store.commit({
          checks: [],
          sets: [{ key, value: bytes("v1") }, { key: other, value: bytes("keep") }],
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
        assert.equal(text((await store.get(other))!.value), "keep", "the delete was not applied");
      });

      await t.step("delete removes a key, which then checks as absent", async () => {
        const key = ["session", "d"];
        await store.commit({ checks: [], sets: [{ key, value: bytes("x") }], deletes: [] });
        assert.notEqual(await store.commit({ checks: [], sets: [], deletes: [key] }), null);
        assert.equal(await store.get(key), null);
        assert.notEqual(
          await store.commit({ checks: [{ key, versionstamp: null }], sets: [], deletes: [] }),
          null,
        );
      });

      await t.step("stored bytes are a copy of the caller's buffer", async () => {
        const key = ["session", "e"];
        const value = bytes("abc");
        await store.commit({ checks: [], sets: [{ key, value }], deletes: [] });
        value[0] = 0x7a;
        assert.equal(text((await store.get(key))!.value), "abc");
      });

      await t.step("a value over maxValueBytes is refused and nothing is written", async () => {
        assert.equal(store.maxValueBytes, 65_536);
        const key = ["session", "f"];
        await assert.rejects(store.commit({
          checks: [],
          sets: [{ key, value: new Uint8Array(store.maxValueBytes + 1) }],
          deletes: [],
        }));
        assert.equal(await store.get(key), null);
      });

      await t.step("list() yields the entries under a prefix, in key order", async () => {
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
        assert.deepEqual(listed.map((e) => e.key), [
          ["user", "u1", "s1"],
          ["user", "u1", "s2"],
          ["user", "u1", "s3"],
        ]);
        assert.deepEqual(listed.map((e) => text(e.value)), ["s1", "s2", "s3"]);
        await store.commit({ checks: [], sets: [], deletes: [["user", "u1", "s2"]] });
        assert.equal((await collect(store.list(["user", "u1"]))).length, 2);
        assert.deepEqual(await collect(store.list(["user", "nobody"])), []);
      });
    } finally {
      close();
    }
  });
}
