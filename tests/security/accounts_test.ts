// Attacker's checklist, part 11: session ids and the per-user index. A
// session id is shown to users ("your devices") and posted back in forms, so
// it must not work as a token, and naming someone else's id must not end it.
import assert from "node:assert/strict";
import {
  getSession,
  listSessions,
  revokeSession,
  revokeUserSessions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { STORES } from "../_helpers.ts";
import {
  HTTPS,
  type Report,
  reporter,
  request,
  setCookieValue,
  TOKEN,
} from "./_attack.ts";

/** Logs `user` in on a new session; returns its token and id. */
async function loginAs(
  store: SessionStore,
  user: string,
): Promise<{ token: string; id: string }> {
  const app = withSession(async (req) => {
    const session = getSession(req);
    await session.login(user, { device: "test" });
    session.set("owner", user);
    return Response.json({ id: session.id });
  }, { store });
  const response = await app(request(HTTPS));
  const token = setCookieValue(response, "__Host-session")!;
  const { id } = await response.json();
  return { token, id };
}

const alive = async (store: SessionStore, token: string) =>
  ((await (await reporter({ store })(
    request(HTTPS, `__Host-session=${token}`),
  )).json()) as Report).owner !== undefined;

for (const fixture of STORES) {
  Deno.test(`session ids and the per-user index resist misuse (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const victim = await loginAs(store, "ada");
      const mallory = await loginAs(store, "mallory");

      await t.step(
        "a session id presented as a token loads nothing",
        async () => {
          assert.match(
            victim.id,
            TOKEN,
            "it is well-formed, so it is looked up",
          );
          const report: Report = await (await reporter({ store })(
            request(HTTPS, `__Host-session=${victim.id}`),
          )).json();
          assert.equal(report.isNew, true);
          assert.equal(report.owner, undefined);
        },
      );

      await t.step("listSessions() never hands out a token", async () => {
        const listed = await listSessions(store, "ada");
        assert.equal(listed.length, 1);
        assert.equal(listed[0]!.id, victim.id);
        assert.ok(!JSON.stringify(listed).includes(victim.token));
      });

      await t.step(
        "revokeSession() with another user's session id ends nothing",
        async () => {
          assert.equal(await revokeSession(store, "mallory", victim.id), false);
          assert.ok(await alive(store, victim.token));
        },
      );

      await t.step(
        "user ids that are prefixes of each other stay apart",
        async () => {
          const ad = await loginAs(store, "ad");
          const ada2 = await loginAs(store, "ada2");
          assert.deepEqual(
            (await listSessions(store, "ada")).map((s) => s.id),
            [victim.id],
          );
          assert.equal(await revokeUserSessions(store, "ad"), 1);
          assert.ok(await alive(store, victim.token), "ada survives");
          assert.ok(await alive(store, ada2.token), "ada2 survives");
          assert.equal(await alive(store, ad.token), false);
        },
      );

      await t.step("a user can end their own session by id", async () => {
        assert.equal(await revokeSession(store, "mallory", mallory.id), true);
        assert.equal(await alive(store, mallory.token), false);
        assert.ok(await alive(store, victim.token));
      });
    } finally {
      close();
    }
  });
}

for (const fixture of STORES) {
  Deno.test(`a user id is capped at 1024 UTF-8 bytes, and the longest works end to end (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      await t.step(
        "1024 bytes of multi-byte characters: login, list, revoke",
        async () => {
          const longest = "é".repeat(512); // 2 bytes each in UTF-8
          const { token, id } = await loginAs(store, longest);
          assert.deepEqual(
            (await listSessions(store, longest)).map((s) => s.id),
            [id],
          );
          assert.equal(await revokeUserSessions(store, longest), 1);
          assert.equal(await alive(store, token), false);
        },
      );
      for (
        const over of ["x".repeat(1025), "é".repeat(513), "😀".repeat(257)]
      ) {
        await t.step(
          `${over.length} characters over 1024 bytes are refused with a RangeError`,
          async () => {
            const app = withSession(async (req) => {
              try {
                await getSession(req).login(over);
                return new Response("accepted");
              } catch (error) {
                return new Response(
                  `${(error as Error).name}: ${(error as Error).message}`,
                );
              }
            }, { store });
            assert.match(
              await (await app(request(HTTPS))).text(),
              /^RangeError: login\(\) was given a user id of \d+ bytes \(UTF-8\); at most 1024/,
            );
            await assert.rejects(
              () => listSessions(store, over),
              RangeError,
            );
            await assert.rejects(
              () => revokeUserSessions(store, over),
              /revokeUserSessions\(\) was given a user id of/,
            );
          },
        );
      }
    } finally {
      close();
    }
  });
}
