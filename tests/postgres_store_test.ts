// postgresStore() beyond the shared suites, on a real PostgreSQL: commits
// racing through a pool, all-or-nothing when the database refuses part of a
// commit, resent statements, expiry and bounded cleanup, index use,
// SERIALIZABLE, migrate() from many processes at once, hostile names and
// values.
import assert from "node:assert/strict";
import pg from "pg";
import {
  getSession,
  listSessions,
  type PostgresClient,
  postgresStore,
  type SessionStore,
  type StoreCommit,
  withSession,
} from "../mod.ts";
import {
  type ClientKind,
  type FixtureOptions,
  type OpenPostgresStore,
  PG,
  POSTGRES_JS,
  postgresFixture,
  sharedPostgres,
} from "./_postgres.ts";
import { collect, sleep } from "./_helpers.ts";
import { keyHex } from "../src/stores/_byte_key.ts";
import {
  gate,
  raceApp,
  readSession,
  request,
  sessionCookie,
  within,
} from "./reliability/_support.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);
const KINDS: ClientKind[] = [PG, POSTGRES_JS];

async function withPostgres(
  kind: ClientKind,
  options: FixtureOptions,
  fn: (opened: OpenPostgresStore) => Promise<void>,
): Promise<void> {
  const opened = await postgresFixture(kind, options).open();
  try {
    await fn(opened);
  } finally {
    await opened.close();
  }
}

/** Rows in the store's table, expired ones included. */
async function rowCount(opened: OpenPostgresStore): Promise<number> {
  const [row] = await opened.client.query(
    `SELECT count(*)::int AS n FROM ${opened.store.table}`,
    [],
  );
  return Number(row!.n);
}

/**
 * Runs `sql` in a transaction of its own on this file's server and keeps it
 * open; `release(n)` waits until `n` other backends wait for its locks, then
 * commits. Commits that start meanwhile all read before it ends.
 */
async function holdRows(
  sql: string,
  params: unknown[],
): Promise<{ release(waiters: number): Promise<void> }> {
  const server = await sharedPostgres();
  const writer = new pg.Client({ connectionString: server.url });
  await writer.connect();
  try {
    await writer.query("BEGIN");
    await writer.query(sql, params);
  } catch (error) {
    await writer.end();
    throw error;
  }
  return {
    async release(waiters) {
      try {
        await waitForLockWaiters(writer, waiters);
        await writer.query("COMMIT");
      } finally {
        await writer.end();
      }
    },
  };
}

/**
 * Runs `count` commits at once. With `behind` (a statement and its
 * parameters), they are lined up first: {@link holdRows} runs it in an open
 * transaction until 20 of them (the pool) wait for its locks.
 */
async function race(
  count: number,
  commit: (i: number) => Promise<string | null>,
  behind?: [sql: string, params: unknown[]],
): Promise<(string | null)[]> {
  const writer = behind && await holdRows(...behind);
  const racing = Promise.allSettled(
    Array.from({ length: count }, (_, i) => commit(i)),
  );
  try {
    await writer?.release(20);
  } finally {
    // Every commit has finished before the test goes on (or drops the table).
    await racing;
  }
  return (await racing).map((r) => {
    if (r.status === "rejected") throw r.reason;
    return r.value;
  });
}

for (const kind of KINDS) {
  Deno.test(`postgresStore(${kind.name}): of 40 commits racing on one versionstamp through a pool, exactly one succeeds`, async (t) => {
    await withPostgres(
      kind,
      { max: 20 },
      async ({ store, client, options }) => {
        // A store object each, as 40 processes would have: no commit is
        // answered from another's knowledge, all of them reach the database.
        const stores = Array.from(
          { length: 40 },
          () => postgresStore(client, options),
        );
        for (
          const [name, extra, lined] of [
            ["a plain save (one check, one set)", false, false],
            ["a commit that also writes a second key", true, false],
            ["plain saves lined up behind a writer's lock", false, true],
            ["two-key commits lined up behind a writer's lock", true, true],
          ] as const
        ) {
          await t.step(name, async () => {
            const key = ["session", name];
            const base = await store.commit({
              checks: [],
              sets: [{ key, value: bytes("base") }],
              deletes: [],
            });
            // Lined up: a transaction holds the row (rewritten, same version)
            // until every pooled connection's commit waits for it, so all of
            // them read the row before any of them can write it.
            const results = await race(
              40,
              (i) =>
                stores[i]!.commit({
                  checks: [{ key, versionstamp: base }],
                  sets: [
                    { key, value: bytes(`w${i}`) },
                    ...extra
                      ? [{ key: ["side", name, `${i}`], value: bytes(`${i}`) }]
                      : [],
                  ],
                  deletes: [],
                }),
              lined
                ? [
                  `UPDATE ${store.table} SET value = value WHERE version = $1::bigint`,
                  [base],
                ]
                : undefined,
            );
            const winners = results.flatMap((r, i) => r === null ? [] : [i]);
            assert.equal(winners.length, 1, `winners: ${winners}`);
            const entry = await store.get(key);
            assert.equal(text(entry!.value), `w${winners[0]}`);
            assert.equal(entry!.versionstamp, results[winners[0]!]);
            if (extra) {
              const sides = await collect(store.list(["side", name]));
              assert.deepEqual(sides.map((e) => e.key[2]), [`${winners[0]}`]);
            }
          });
        }
      },
    );
  });

  Deno.test(`postgresStore(${kind.name}): saves of one session racing in one process go to the database one at a time, the stale ones not at all`, async () => {
    let updates = 0;
    const wrap = (inner: PostgresClient): PostgresClient => ({
      query(sql, params) {
        if (sql.startsWith("UPDATE")) updates++;
        return inner.query(sql, params);
      },
    });
    await withPostgres(kind, { max: 20, wrap }, async ({ store }) => {
      const key = ["session", "hot"];
      const base = await store.commit({
        checks: [],
        sets: [{ key, value: bytes("base") }],
        deletes: [],
      });
      updates = 0;
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.commit({
            checks: [{ key, versionstamp: base }],
            sets: [{ key, value: bytes(`w${i}`) }],
            deletes: [],
          })),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.equal(updates, 1, "39 saves over a version known to be past");
      const entry = await store.get(key);
      assert.equal(
        await store.commit({
          checks: [{ key, versionstamp: entry!.versionstamp }],
          sets: [{ key, value: bytes("next") }],
          deletes: [],
        }) === null,
        false,
        "a save over the current version goes through",
      );
    });
  });

  Deno.test(`postgresStore(${kind.name}): 40 racing creates of one key leave one record (and its index entry only)`, async (t) => {
    await withPostgres(kind, { max: 20 }, async ({ store }) => {
      for (
        const [name, indexed, lined] of [
          ["plain creates", false, false],
          ["creates with an index entry", true, false],
          ["plain creates behind an uncommitted insert", false, true],
          ["indexed creates behind an uncommitted insert", true, true],
        ] as const
      ) {
        await t.step(name, async () => {
          const key = ["session", name];
          // Lined up: another transaction has inserted the key and not yet
          // committed; every create waits for it, then finds the key taken.
          const results = await race(
            40,
            (i) =>
              store.commit({
                checks: [{ key, versionstamp: null }],
                sets: [
                  { key, value: bytes(`c${i}`) },
                  ...indexed
                    ? [{ key: ["user", name, `u${i}`], value: bytes("") }]
                    : [],
                ],
                deletes: [],
              }),
            lined
              ? [
                `INSERT INTO ${store.table} (key, value, version) VALUES (decode($1, 'hex'), '\\x00', 0)`,
                [keyHex(key)],
              ]
              : undefined,
          );
          const winners = results.flatMap((r, i) => r === null ? [] : [i]);
          assert.equal(winners.length, lined ? 0 : 1, `winners: ${winners}`);
          assert.equal(
            text((await store.get(key))!.value),
            lined ? "\0" : `c${winners[0]}`,
          );
          const index = await collect(store.list(["user", name]));
          assert.deepEqual(
            index.map((e) => e.key[2]),
            winners.filter(() => indexed).map((i) => `u${i}`),
          );
        });
      }
    });
  });

  Deno.test(`postgresStore(${kind.name}): unchecked commits racing to create one key all succeed (a duplicate-key abort is retried)`, async (t) => {
    await withPostgres(kind, { max: 20 }, async ({ store }) => {
      for (const lined of [false, true]) {
        await t.step(
          lined ? "behind an uncommitted insert" : "free",
          async () => {
            const shared = ["shared", `${lined}`];
            const results = await race(
              30,
              (i) =>
                store.commit({
                  checks: [],
                  sets: [
                    { key: shared, value: bytes(`${i}`) },
                    { key: ["own", `${lined}`, `${i}`], value: bytes(`${i}`) },
                  ],
                  deletes: [],
                }),
              lined
                ? [
                  `INSERT INTO ${store.table} (key, value, version) VALUES (decode($1, 'hex'), '\\x00', 0)`,
                  [keyHex(shared)],
                ]
                : undefined,
            );
            assert.ok(results.every((r) => r !== null), "no commit failed");
            assert.equal(
              (await collect(store.list(["own", `${lined}`]))).length,
              30,
            );
            const last = await store.get(shared);
            assert.ok(
              results.includes(last!.versionstamp),
              "one of them is last",
            );
          },
        );
      }
    });
  });

  Deno.test(`postgresStore(${kind.name}): a commit the database refuses in part applies none of it`, async () => {
    await withPostgres(kind, {}, async ({ store, client }) => {
      const a = ["session", "a"];
      const gone = ["session", "gone"];
      const stamp = await store.commit({
        checks: [],
        sets: [{ key: a, value: bytes("a1") }, {
          key: gone,
          value: bytes("x"),
        }],
        deletes: [],
      });
      // Values of 13 bytes are refused from now on: the second set of the
      // commit below fails after the first one and the delete were planned.
      await client.query(
        `ALTER TABLE ${store.table} ADD CONSTRAINT no13 CHECK (length(value) <> 13)`,
        [],
      );
      await assert.rejects(store.commit({
        checks: [{ key: a, versionstamp: stamp }],
        sets: [
          { key: a, value: bytes("a2") },
          { key: ["session", "b"], value: bytes("thirteen byte") },
        ],
        deletes: [gone],
      }));
      const entry = await store.get(a);
      assert.equal(text(entry!.value), "a1");
      assert.equal(entry!.versionstamp, stamp);
      assert.notEqual(await store.get(gone), null, "the delete was undone");
      assert.equal(await store.get(["session", "b"]), null);
    });
  });

  Deno.test(`postgresStore(${kind.name}): a commit whose statement is sent twice (a lost reply) fails its check the second time and applies once`, async (t) => {
    let resend = false;
    const resends: Promise<Record<string, unknown>[]>[] = [];
    const wrap = (inner: PostgresClient): PostgresClient => ({
      async query(sql, params) {
        const rows = await inner.query(sql, params);
        if (!resend) return rows;
        // The reply is lost; the same statement goes out again.
        const again = inner.query(sql, params);
        resends.push(again);
        return await again;
      },
    });
    await withPostgres(kind, { wrap }, async ({ store }) => {
      const key = ["session", "r"];
      const changes: [string, (stamp: string | null) => StoreCommit][] = [
        ["a create", () => ({
          checks: [{ key, versionstamp: null }],
          sets: [{ key, value: bytes("1") }, {
            key: ["user", "u", "r"],
            value: bytes(""),
          }],
          deletes: [],
        })],
        ["a plain save", (stamp) => ({
          checks: [{ key, versionstamp: stamp }],
          sets: [{ key, value: bytes("2") }],
          deletes: [],
        })],
        ["a save with a delete", (stamp) => ({
          checks: [{ key, versionstamp: stamp }],
          sets: [{ key, value: bytes("3") }],
          deletes: [["user", "u", "r"]],
        })],
      ];
      let stamp: string | null = null;
      for (const [name, change] of changes) {
        await t.step(name, async () => {
          resend = true;
          const result = await store.commit(change(stamp));
          resend = false;
          assert.equal(result, null, "the resend is a conflict");
          const entry = await store.get(key);
          assert.equal(
            text(entry!.value),
            String(changes.findIndex(([n]) => n === name) + 1),
            "the first send was applied",
          );
          stamp = entry!.versionstamp;
        });
      }
      await Promise.all(resends);
    });
  });
}

Deno.test("postgresStore: a versionstamp is never reused, also after its key was deleted and written again", async () => {
  await withPostgres(PG, {}, async ({ store }) => {
    const key = ["session", "aba"];
    const seen = new Set<string>();
    let old: string | null = null;
    for (let i = 0; i < 5; i++) {
      const stamp = await store.commit({
        checks: [],
        sets: [{ key, value: bytes("same") }],
        deletes: [],
      });
      assert.ok(!seen.has(stamp!), `stamp ${stamp} reused`);
      seen.add(stamp!);
      await store.commit({ checks: [], sets: [], deletes: [key] });
      old = stamp;
    }
    await store.commit({
      checks: [],
      sets: [{ key, value: bytes("same") }],
      deletes: [],
    });
    assert.equal(
      await store.commit({
        checks: [{ key, versionstamp: old }],
        sets: [{ key, value: bytes("stale") }],
        deletes: [],
      }),
      null,
      "a check on the old incarnation's stamp fails",
    );
  });
});

Deno.test("postgresStore: expired rows are never live, are overwritten by a create, and are swept in bounded batches", async (t) => {
  await withPostgres(PG, { sweepEvery: 0, sweepBatch: 10 }, async (opened) => {
    const { store } = opened;
    const key = ["session", "short"];
    const stamp = await store.commit({
      checks: [{ key, versionstamp: null }],
      sets: [{ key, value: bytes("brief"), expireIn: 100 }],
      deletes: [],
    });
    for (let i = 0; i < 25; i++) {
      await store.commit({
        checks: [],
        sets: [{
          key: ["user", "u", `s${i}`],
          value: bytes(""),
          expireIn: 100,
        }],
        deletes: [],
      });
    }
    await store.commit({
      checks: [],
      sets: [{ key: ["user", "u", "live"], value: bytes("") }],
      deletes: [],
    });
    await sleep(300);

    await t.step("reads, lists and checks see them as absent", async () => {
      assert.equal(await store.get(key), null);
      assert.deepEqual(
        (await collect(store.list(["user", "u"]))).map((e) => e.key[2]),
        ["live"],
      );
      assert.equal(
        await store.commit({
          checks: [{ key, versionstamp: stamp }],
          sets: [{ key, value: bytes("revived") }],
          deletes: [],
        }),
        null,
        "a check on an expired row's stamp fails",
      );
      assert.equal(await rowCount(opened), 27, "still there until swept");
    });

    await t.step("sweep() deletes at most sweepBatch rows a call", async () => {
      assert.deepEqual(
        [
          await store.sweep(),
          await store.sweep(),
          await store.sweep(),
          await store.sweep(),
        ],
        [10, 10, 6, 0],
      );
      assert.equal(await rowCount(opened), 1, "the live row stays");
    });

    await t.step("a create over an expired row succeeds", async () => {
      await store.commit({
        checks: [],
        sets: [{ key, value: bytes("brief"), expireIn: 50 }],
        deletes: [],
      });
      await sleep(200);
      assert.notEqual(
        await store.commit({
          checks: [{ key, versionstamp: null }],
          sets: [{ key, value: bytes("again") }],
          deletes: [],
        }),
        null,
      );
      assert.equal(text((await store.get(key))!.value), "again");
    });
  });
});

Deno.test("postgresStore: with sweepEvery, commits clear expired rows as they go", async () => {
  await withPostgres(PG, { sweepEvery: 5, sweepBatch: 100 }, async (opened) => {
    const { store } = opened;
    for (let i = 0; i < 4; i++) {
      await store.commit({
        checks: [],
        sets: [{ key: ["old", `${i}`], value: bytes(""), expireIn: 50 }],
        deletes: [],
      });
    }
    await sleep(200);
    assert.equal(await rowCount(opened), 4);
    await store.commit({
      checks: [],
      sets: [{ key: ["new"], value: bytes("") }],
      deletes: [],
    });
    assert.equal(await rowCount(opened), 1, "the fifth commit swept");
  });
});

Deno.test("postgresStore: a user's sessions, get, and the sweep are index scans, never a full scan", async () => {
  // One connection, so the counters of that backend can be flushed at will.
  await withPostgres(PG, { max: 1, sweepEvery: 0 }, async (opened) => {
    const { store, client } = opened;
    await client.query(
      `INSERT INTO ${store.table} (key, value, version, expires_at)
       SELECT decode(lpad(to_hex(i), 8, '0'), 'hex'), '\\x00', i,
         CASE WHEN i % 2 = 0 THEN now() + interval '1 hour' END
       FROM generate_series(1, 5000) AS i`,
      [],
    );
    for (let i = 0; i < 3; i++) {
      await store.commit({
        checks: [],
        sets: [{ key: ["user", "ada", `s${i}`], value: bytes("") }],
        deletes: [],
      });
    }
    await client.query(`ANALYZE ${store.table}`, []);
    const scans = async () => {
      await client.query("SELECT pg_stat_force_next_flush()", []);
      const [row] = await client.query(
        "SELECT seq_scan::int AS seq, idx_scan::int AS idx FROM pg_stat_user_tables WHERE relid = $1::regclass",
        [store.table],
      );
      return { seq: Number(row!.seq), idx: Number(row!.idx) };
    };
    const before = await scans();
    assert.equal((await collect(store.list(["user", "ada"]))).length, 3);
    assert.notEqual(await store.get(["user", "ada", "s1"]), null);
    assert.equal(await store.sweep(), 0);
    const after = await scans();
    assert.equal(after.seq, before.seq, "no sequential scan");
    assert.ok(after.idx >= before.idx + 3, "each used an index");
  });
});

Deno.test("postgresStore: works with every transaction at SERIALIZABLE, retrying serialization failures", async (t) => {
  const serializable: FixtureOptions = {
    database: "serializable",
    databaseSettings: { default_transaction_isolation: "serializable" },
    max: 20,
  };
  for (const kind of KINDS) {
    await t.step(`${kind.name}: 40 racing increments all count`, async () => {
      await withPostgres(kind, serializable, async ({ store, client }) => {
        const [row] = await client.query(
          "SELECT current_setting('transaction_isolation') AS level",
          [],
        );
        assert.equal(row!.level, "serializable");
        const held = gate();
        let loaded = 0;
        const allLoaded = gate();
        const app = raceApp(store, async (path) => {
          if (path !== "/inc") return;
          if (++loaded === 40) allLoaded.open();
          await held.promise;
        });
        const cookie = sessionCookie(await app(request("/set?k=a&v=1")))!;
        const racing = Promise.all(
          Array.from({ length: 40 }, () => app(request("/inc", cookie))),
        );
        await within(10_000, "40 loads", allLoaded.promise);
        held.open();
        const statuses = (await within(60_000, "the increments", racing))
          .map((r) => r.status);
        assert.deepEqual(statuses.filter((s) => s !== 200), []);
        assert.equal((await readSession(app, cookie)).values.n, 40);
      });
    });

    await t.step(
      `${kind.name}: a commit that waited for a concurrent writer fails with 40001 and is tried again`,
      async () => {
        const failures: string[] = [];
        const wrap = (inner: PostgresClient): PostgresClient => ({
          async query(sql, params) {
            try {
              return await inner.query(sql, params);
            } catch (error) {
              failures.push(String((error as { code?: unknown }).code));
              throw error;
            }
          },
        });
        await withPostgres(
          kind,
          { ...serializable, wrap },
          async ({ store }) => {
            const server = await sharedPostgres();
            const blocker = new pg.Client({
              connectionString: `${
                server.url.slice(0, server.url.lastIndexOf("/"))
              }/serializable`,
            });
            await blocker.connect();
            try {
              for (const extra of [false, true]) {
                const key = ["session", `blocked ${extra}`];
                const stamp = await store.commit({
                  checks: [],
                  sets: [{ key, value: bytes("v1") }],
                  deletes: [],
                });
                // A transaction rewrites the row (same version column) and holds
                // its lock while the store's commit starts and waits for it.
                await blocker.query("BEGIN");
                await blocker.query(
                  `UPDATE ${store.table} SET value = value WHERE version = $1::bigint`,
                  [stamp],
                );
                const before = failures.length;
                const commit = store.commit({
                  checks: [{ key, versionstamp: stamp }],
                  sets: [
                    { key, value: bytes("v2") },
                    ...extra ? [{ key: ["side", "x"], value: bytes("") }] : [],
                  ],
                  deletes: [],
                });
                await waitForLockWaiters(blocker);
                await blocker.query("COMMIT");
                assert.notEqual(await commit, null, "the retry succeeds");
                assert.deepEqual(failures.slice(before), ["40001"]);
                assert.equal(text((await store.get(key))!.value), "v2");
              }
            } finally {
              await blocker.end();
            }
          },
        );
      },
    );
  }
});

/** Waits until `n` backends wait for a lock (the store's commits). */
async function waitForLockWaiters(client: pg.Client, n = 1): Promise<void> {
  let waiting = 0;
  for (let i = 0; i < 1000; i++) {
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
    );
    waiting = rows[0].n;
    if (waiting >= n) return;
    await sleep(10);
  }
  // On a loaded machine a pooled connection may still be connecting: at
  // least two commits lined up is still a race.
  if (waiting < Math.min(n, 2)) {
    throw new Error(`${waiting} of ${n} commits waited for the lock in 10 s`);
  }
}

Deno.test("postgresStore: migrate() from 8 processes at once creates one schema; a foreign table of that name is refused", async (t) => {
  const server = await sharedPostgres();
  const connections = Array.from(
    { length: 8 },
    () => PG.connect(server.url, 1),
  );
  const table = `migrated "at once" ${Date.now()}`;
  try {
    await t.step("8 concurrent migrate() calls all succeed", async () => {
      await Promise.all(
        connections.map(({ client }) =>
          postgresStore(client, { table }).migrate()
        ),
      );
      const store = postgresStore(connections[0]!.client, { table });
      await store.migrate();
      assert.notEqual(
        await store.commit({
          checks: [],
          sets: [{ key: ["k"], value: bytes("v") }],
          deletes: [],
        }),
        null,
      );
      const [row] = await connections[0]!.client.query(
        "SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1",
        [table],
      );
      assert.equal(Number(row!.n), 2, "the primary key and the expiry index");
    });
    await t.step(
      "a table with other columns is refused with a clear error",
      async () => {
        const other = `foreign ${Date.now()}`;
        await connections[0]!.client.query(
          `CREATE TABLE "${other}" (id int PRIMARY KEY, data text)`,
          [],
        );
        await assert.rejects(
          postgresStore(connections[0]!.client, { table: other }).migrate(),
          /exists without tessera's columns/,
        );
        await connections[0]!.client.query(`DROP TABLE "${other}"`, []);
      },
    );
  } finally {
    await connections[0]!.client.query(
      `DROP TABLE IF EXISTS "${table.replaceAll('"', '""')}"`,
      [],
    );
    await Promise.all(connections.map((c) => c.end()));
  }
});

Deno.test("postgresStore: hostile names and values", async (t) => {
  await t.step(
    "a table and schema named with quotes, a backslash and $t$, on a database with standard_conforming_strings off",
    async () => {
      await withPostgres(PG, {
        database: "legacy strings",
        databaseSettings: { standard_conforming_strings: "off" },
        schema: `s'"\\$t$`,
        createSchema: true,
        table: `x"); DROP TABLE y; --'\\$t$$t0$`,
      }, async ({ store, client }) => {
        const [row] = await client.query(
          "SELECT current_setting('standard_conforming_strings') AS scs",
          [],
        );
        assert.equal(row!.scs, "off");
        await store.migrate();
        const stamp = await store.commit({
          checks: [{ key: ["session", "q"], versionstamp: null }],
          sets: [{
            key: ["session", "q"],
            value: bytes("ok"),
            expireIn: 60_000,
          }, {
            key: ["user", "u", "q"],
            value: bytes(""),
          }],
          deletes: [],
        });
        assert.equal(text((await store.get(["session", "q"]))!.value), "ok");
        assert.notEqual(stamp, null);
        assert.equal(await store.sweep(), 0);
      });
    },
  );

  await t.step(
    "user ids with SQL metacharacters, NUL, lone surrogates and near-prefixes stay apart",
    async () => {
      await withPostgres(POSTGRES_JS, {}, async ({ store }) => {
        const ids = [
          "a",
          "a\0",
          "a\u0001",
          "ab",
          "a'); DELETE FROM sessions; --",
          "a\\",
          "a%",
          "a_",
          "\uD800",
          "\uFFFD",
          "😀",
          "\0".repeat(1024),
        ];
        const app = withSession((req) => {
          const url = new URL(req.url);
          const session = getSession(req);
          return session.login(ids[Number(url.searchParams.get("i"))]!)
            .then(() => new Response("in"));
        }, { store });
        for (let i = 0; i < ids.length; i++) {
          for (let n = 0; n < 2; n++) {
            const response = await app(new Request(`http://localhost/?i=${i}`));
            assert.equal(response.status, 200, await response.text());
          }
        }
        for (const id of ids) {
          const listed = await listSessions(store, id);
          assert.equal(
            listed.length,
            2,
            `two sessions of ${JSON.stringify(id)}`,
          );
        }
        const index = await collect(store.list(["user"]));
        assert.deepEqual(
          [...new Set(index.map((e) => e.key[1]))].sort(),
          [...ids].sort(),
          "every id reads back exactly",
        );
      });
    },
  );

  await t.step(
    "a 64 KiB session value round-trips; one byte over the limit is refused; maxValueBytes can be raised",
    async () => {
      await withPostgres(PG, {}, async ({ store }) => {
        const big = new Uint8Array(65_536).map((_, i) => i % 251);
        await store.commit({
          checks: [],
          sets: [{ key: ["session", "big"], value: big }],
          deletes: [],
        });
        assert.deepEqual((await store.get(["session", "big"]))!.value, big);
        await assert.rejects(
          store.commit({
            checks: [],
            sets: [{ key: ["session", "over"], value: new Uint8Array(65_537) }],
            deletes: [],
          }),
          RangeError,
        );
        assert.equal(await store.get(["session", "over"]), null);
      });
      await withPostgres(PG, { maxValueBytes: 1 << 20 }, async ({ store }) => {
        const big = new Uint8Array(1 << 20).fill(9);
        await store.commit({
          checks: [{ key: ["session", "mib"], versionstamp: null }],
          sets: [{ key: ["session", "mib"], value: big }],
          deletes: [],
        });
        assert.equal(
          (await store.get(["session", "mib"]))!.value.byteLength,
          1 << 20,
        );
      });
    },
  );
});

Deno.test("postgresStore: misuse is refused with a clear error", async () => {
  const client: PostgresClient = { query: () => Promise.resolve([]) };
  assert.throws(() => postgresStore(null as never), TypeError);
  assert.throws(() => postgresStore({} as never), /query\(text, params\)/);
  assert.throws(() => postgresStore(client, { table: "" }), RangeError);
  assert.throws(
    () => postgresStore(client, { table: "x".repeat(49) }),
    /1 to 48 bytes/,
  );
  assert.throws(() => postgresStore(client, { schema: "a\0b" }), RangeError);
  assert.throws(() => postgresStore(client, { maxValueBytes: 0 }), RangeError);
  assert.throws(() => postgresStore(client, { retryAttempts: 0 }), RangeError);
  assert.throws(() => postgresStore(client, { sweepEvery: -1 }), RangeError);
  assert.throws(() => postgresStore(client, { sweepBatch: 1.5 }), RangeError);
  const store: SessionStore = postgresStore(client);
  await assert.rejects(
    store.commit({
      checks: [],
      sets: [{ key: ["user", "x".repeat(3000), "s"], value: bytes("") }],
      deletes: [],
    }),
    /over postgresStore\(\)'s limit/,
  );
});
