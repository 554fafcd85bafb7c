// Attacker's checklist, part 3: tokens the attacker makes up, keeps from
// earlier, or copies from elsewhere. Each gets no data, and the value is never
// adopted or echoed back.
import assert from "node:assert/strict";
import {
  getSession,
  type Session,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { counting, sha256, sleep, STORES } from "../_helpers.ts";
import {
  cookieNameFor,
  everythingSent,
  forgedToken,
  hasRecord,
  HTTP,
  HTTPS,
  plantSession,
  type Report,
  reporter,
  request,
  setCookieValue,
  TOKEN,
} from "./_attack.ts";

/**
 * Presents `token` under the session name for `url`, reading and then
 * storing a value: the request must see no data, and the token it is given
 * must be fresh, with the presented value nowhere in the response.
 */
async function assertDead(
  store: SessionStore,
  url: string,
  token: string,
  options: SessionOptions = {},
  name = cookieNameFor(url),
): Promise<void> {
  const app = reporter({ store, ...options });
  const read = await app(request(url, `${name}=${token}`));
  const readSent = await everythingSent(read);
  const report: Report = await read.json();
  assert.equal(report.isNew, true, "no session is loaded");
  assert.deepEqual(report.keys, []);
  assert.equal(report.user, null);
  assert.equal(setCookieValue(read, name), undefined, "no cookie is set");

  const write = await app(request(`${url}?set=mine`, `${name}=${token}`));
  const issued = setCookieValue(write, cookieNameFor(url));
  assert.ok(issued !== undefined && TOKEN.test(issued), "a fresh token");
  assert.notEqual(issued, token, "the presented token is not adopted");
  assert.ok(
    !(await everythingSent(write)).includes(token),
    "the presented token is never echoed back",
  );
  assert.ok(
    !readSent.includes(token),
    "the presented token is never echoed back",
  );
}

for (const fixture of STORES) {
  Deno.test(`forged and stale tokens get no data (${fixture.name})`, async (t) => {
    const { store: inner, close } = await fixture.open();
    const store = counting(inner);
    try {
      await t.step("a well-formed random token", async () => {
        const forged = forgedToken();
        await assertDead(store, HTTP, forged);
        await assertDead(store, HTTPS, forged);
        assert.equal(
          await hasRecord(store, forged),
          false,
          "nothing stored under it",
        );
      });

      await t.step("the token of a destroyed session", async () => {
        const token = await plantSession(store, HTTP, "gone");
        const destroy = withSession(async (req) => {
          await getSession(req).destroy();
          return new Response("bye");
        }, { store });
        const response = await destroy(request(HTTP, `session=${token}`));
        assert.equal(setCookieValue(response, "session"), "", "cookie cleared");
        await assertDead(store, HTTP, token);
      });

      await t.step(
        "the token of a session past its idle timeout, which is removed",
        async () => {
          const token = await plantSession(store, HTTP, "idle");
          await sleep(60);
          await assertDead(store, HTTP, token, {
            idleTimeout: 40,
            allowShortTimeouts: true,
          });
          assert.equal(
            await hasRecord(store, token),
            false,
            "the record is gone",
          );
        },
      );

      await t.step(
        "the token of a session past its absolute timeout, however busy",
        async () => {
          // Wide margins: a loaded machine may stall a request for tens of
          // milliseconds, so "young" is the first fifth of the lifetime.
          const ABSOLUTE = 1_000;
          const born = Date.now();
          const token = await plantSession(store, HTTP, "old");
          const busy = reporter({
            store,
            absoluteTimeout: ABSOLUTE,
            allowShortTimeouts: true,
            touchInterval: 0,
          });
          for (let i = 0; i < 3; i++) {
            await sleep(50);
            const report: Report =
              await (await busy(request(HTTP, `session=${token}`))).json();
            if (Date.now() - born < ABSOLUTE / 2) {
              assert.equal(report.owner, "old", "alive while young");
            }
          }
          // Kept busy (every request touches it) until past its absolute end.
          while (Date.now() - born < ABSOLUTE + 100) {
            await (await busy(request(HTTP, `session=${token}`))).body
              ?.cancel();
            await sleep(100);
          }
          await assertDead(store, HTTP, token, {
            absoluteTimeout: ABSOLUTE,
            allowShortTimeouts: true,
          });
        },
      );

      for (
        const [how, act] of [
          ["regenerate()", (s: Session) => s.regenerate()],
          ["login()", (s: Session) => s.login("ada")],
          ["logout()", (s: Session) => s.logout()],
        ] as const
      ) {
        await t.step(`the token a session had before ${how}`, async () => {
          const token = await plantSession(store, HTTP, "rotated", "someone");
          const app = withSession(async (req) => {
            const session = getSession(req);
            session.set("language", "de"); // kept by login and logout
            await act(session);
            return new Response("rotated");
          }, { store });
          const response = await app(request(HTTP, `session=${token}`));
          const next = setCookieValue(response, "session");
          assert.ok(next !== undefined && next !== "" && next !== token);
          await assertDead(store, HTTP, token);
          const report: Report =
            await (await reporter({ store })(request(HTTP, `session=${next}`)))
              .json();
          assert.equal(report.isNew, false, "the new token works");
        });
      }

      await t.step(
        "the store key (SHA-256 of a token) presented as a token",
        async () => {
          const token = await plantSession(store, HTTP, "victim");
          const key = await sha256(token);
          assert.match(key, TOKEN, "it is well-formed, so it is looked up");
          await assertDead(store, HTTP, key);
          assert.ok(await hasRecord(store, token), "the session is unharmed");
        },
      );

      await t.step(
        "an HTTP session's token presented as __Host-session over HTTPS",
        async () => {
          const token = await plantSession(store, HTTP, "http-only");
          await assertDead(store, HTTPS, token);
        },
      );

      await t.step(
        "an HTTPS session's token presented over HTTP, under either name, is unharmed",
        async () => {
          const token = await plantSession(store, HTTPS, "https-only");
          await assertDead(store, HTTP, token);
          await assertDead(store, HTTP, token, {}, "__Host-session");
          assert.ok(await hasRecord(store, token), "not erased");
          const report: Report = await (await reporter({ store })(
            request(HTTPS, `__Host-session=${token}`),
          )).json();
          assert.equal(report.owner, "https-only");
        },
      );

      await t.step(
        "an HTTPS session's token as the plain cookie over HTTPS is neither used nor erased",
        async () => {
          const token = await plantSession(store, HTTPS, "https-only");
          await assertDead(store, HTTPS, token, {}, "session");
          assert.ok(await hasRecord(store, token));
        },
      );

      await t.step(
        "with httpsOnly, a plain-HTTP request with a real token never reaches the store",
        async () => {
          const token = await plantSession(store, HTTP, "legacy");
          const reads = store.reads;
          const app = reporter({ store, httpsOnly: true });
          const report: Report =
            await (await app(request(HTTP, `session=${token}`))).json();
          assert.equal(report.owner, undefined);
          assert.equal(store.reads, reads);
          await assert.rejects(
            app(request(`${HTTP}?set=x`, `session=${token}`)),
            { name: "TypeError", message: /httpsOnly/ },
            "storing over plain HTTP is refused",
          );
          assert.equal(store.reads, reads);
        },
      );
    } finally {
      close();
    }
  });
}
