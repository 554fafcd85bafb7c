/**
 * The store and record paths of one request, in process: `deno task bench`.
 *
 * Record decode/encode (with the raw `JSON.parse` / `JSON.stringify` round
 * trip as baseline), memoryStore get/commit and kvStore(:memory:) get/commit
 * (each against the least the same work can cost: a bare `Map` with a
 * versioned check, and the raw `Deno.Kv` calls). The before/after figures of
 * the hot-path changes of issue 14 come from these groups.
 *
 * @module
 */
import {
  type KvAtomicLike,
  type KvLike,
  kvStore,
  memoryStore,
} from "../mod.ts";
import {
  decodeRecord,
  encodeRecord,
  type SessionState,
} from "../src/_record.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const now = Date.now();

const state: SessionState = {
  data: new Map<string, unknown>([["visits", 7], ["language", "en"]]),
  flash: new Map(),
  created: now,
  seen: now,
  user: null,
  csrf: null,
  meta: null,
  writes: "",
};
const bytes = encodeRecord(state, false);
// A record whose data holds U+FFFD (valid UTF-8): the strict re-check path.
const replacement = encodeRecord({
  ...state,
  data: new Map([["name", "caf\uFFFD"]]),
}, false);
if (decodeRecord(bytes) === null || decodeRecord(replacement) === null) {
  throw new Error("the bench's records do not decode");
}

// ---- record ----

Deno.bench({
  name: "JSON.parse(TextDecoder) (no checks)",
  group: "record decode",
  baseline: true,
  fn: () => {
    if (JSON.parse(decoder.decode(bytes)).v !== 1) throw new Error();
  },
});
Deno.bench({
  name: "decodeRecord",
  group: "record decode",
  fn: () => {
    if (decodeRecord(bytes) === null) throw new Error();
  },
});
Deno.bench({
  name: "decodeRecord, data holding U+FFFD",
  group: "record decode",
  fn: () => {
    if (decodeRecord(replacement) === null) throw new Error();
  },
});

const plain = JSON.parse(decoder.decode(bytes));
Deno.bench({
  name: "TextEncoder(JSON.stringify) (no Maps)",
  group: "record encode",
  baseline: true,
  fn: () => {
    encoder.encode(JSON.stringify(plain));
  },
});
Deno.bench({
  name: "encodeRecord",
  group: "record encode",
  fn: () => {
    encodeRecord(state, false);
  },
});

// ---- memoryStore ----

const SESSIONS = 256;
const ids = Array.from(
  { length: SESSIONS },
  (_, i) => `${i}`.padStart(43, "x"),
);
const keys = ids.map((id) => ["session", id] as const);

/** The least a versioned in-memory map costs: one Map lookup per step. */
const bare = new Map<string, { value: Uint8Array; versionstamp: number }>();
let bareVersion = 0;
for (const id of ids) bare.set(id, { value: bytes, versionstamp: 0 });

const mem = memoryStore();
const stamps: string[] = [];
for (const key of keys) {
  stamps.push(
    (await mem.commit({
      checks: [],
      sets: [{ key, value: bytes, expireIn: 3_600_000 }],
      deletes: [],
    }))!,
  );
}

let m = 0;
Deno.bench({
  name: "Map.get (no expiry, no LRU)",
  group: "memoryStore get",
  baseline: true,
  fn: () => {
    if (bare.get(ids[m++ % SESSIONS]!) === undefined) throw new Error();
  },
});
Deno.bench({
  name: "memoryStore.get",
  group: "memoryStore get",
  fn: async () => {
    if ((await mem.get(keys[m++ % SESSIONS]!)) === null) throw new Error();
  },
});

Deno.bench({
  name: "Map check + set (copy of the bytes)",
  group: "memoryStore commit",
  baseline: true,
  fn: () => {
    const id = ids[m++ % SESSIONS]!;
    const slot = bare.get(id)!;
    bare.set(id, { value: bytes.slice(), versionstamp: ++bareVersion });
    if (slot === undefined) throw new Error();
  },
});
Deno.bench({
  name: "memoryStore.commit (check + set of an existing session)",
  group: "memoryStore commit",
  fn: async () => {
    const i = m++ % SESSIONS;
    const stamp = await mem.commit({
      checks: [{ key: keys[i]!, versionstamp: stamps[i]! }],
      sets: [{ key: keys[i]!, value: bytes, expireIn: 3_600_000 }],
      deletes: [],
    });
    if (stamp === null) throw new Error();
    stamps[i] = stamp;
  },
});

// ---- kvStore(:memory:) ----

const kv = await Deno.openKv(":memory:");
const kvS = kvStore(kv);
const kvStamps: (string | null)[] = [];
for (const key of keys) {
  kvStamps.push(
    await kvS.commit({
      checks: [],
      sets: [{ key, value: bytes, expireIn: 3_600_000 }],
      deletes: [],
    }),
  );
}
let k = 0;
Deno.bench({
  name: "Deno.Kv get",
  group: "kvStore get",
  baseline: true,
  fn: async () => {
    const entry = await kv.get(["tessera", ...keys[k++ % SESSIONS]!]);
    if (entry.versionstamp === null) throw new Error();
  },
});
Deno.bench({
  name: "kvStore.get",
  group: "kvStore get",
  fn: async () => {
    if ((await kvS.get(keys[k++ % SESSIONS]!)) === null) throw new Error();
  },
});
Deno.bench({
  name: "Deno.Kv atomic check + set",
  group: "kvStore commit",
  baseline: true,
  fn: async () => {
    const i = k++ % SESSIONS;
    const key = ["tessera", ...keys[i]!];
    const result = await kv.atomic()
      .check({ key, versionstamp: kvStamps[i]! })
      .set(key, bytes, { expireIn: 3_600_000 })
      .commit();
    if (!result.ok) throw new Error();
    kvStamps[i] = result.versionstamp;
  },
});
Deno.bench({
  name: "kvStore.commit (check + set)",
  group: "kvStore commit",
  fn: async () => {
    const i = k++ % SESSIONS;
    const stamp = await kvS.commit({
      checks: [{ key: keys[i]!, versionstamp: kvStamps[i]! }],
      sets: [{ key: keys[i]!, value: bytes, expireIn: 3_600_000 }],
      deletes: [],
    });
    if (stamp === null) throw new Error();
    kvStamps[i] = stamp;
  },
});

// ---- kvStore's own cost: over a KV that answers at once ----

// Deno KV's own latency (and its noise) hides what kvStore adds; over a
// client whose promises are already settled, only kvStore's work is left.
const settledEntry = { value: bytes, versionstamp: "00000000000000000001" };
const settledCommit = { ok: true, versionstamp: "00000000000000000002" };
const settledAtomic: KvAtomicLike = {
  check: () => settledAtomic,
  set: () => settledAtomic,
  delete: () => settledAtomic,
  commit: () => Promise.resolve(settledCommit),
};
const settled: KvLike = {
  get: () => Promise.resolve(settledEntry),
  atomic: () => settledAtomic,
  list: () => ({ async *[Symbol.asyncIterator]() {} }),
};
const settledStore = kvStore(settled);
Deno.bench({
  name: "the client's get",
  group: "kvStore get, settled KV",
  baseline: true,
  fn: async () => {
    await settled.get(["tessera", ...keys[k++ % SESSIONS]!]);
  },
});
Deno.bench({
  name: "kvStore.get",
  group: "kvStore get, settled KV",
  fn: async () => {
    await settledStore.get(keys[k++ % SESSIONS]!);
  },
});
Deno.bench({
  name: "the client's atomic check + set",
  group: "kvStore commit, settled KV",
  baseline: true,
  fn: async () => {
    const key = ["tessera", ...keys[k++ % SESSIONS]!];
    await settled.atomic().check({ key, versionstamp: "1" }).set(key, bytes, {
      expireIn: 3_600_000,
    }).commit();
  },
});
Deno.bench({
  name: "kvStore.commit",
  group: "kvStore commit, settled KV",
  fn: async () => {
    const key = keys[k++ % SESSIONS]!;
    await settledStore.commit({
      checks: [{ key, versionstamp: "1" }],
      sets: [{ key, value: bytes, expireIn: 3_600_000 }],
      deletes: [],
    });
  },
});
