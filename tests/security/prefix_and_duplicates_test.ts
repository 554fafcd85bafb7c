// Attacker's checklist, part 2: cookie names. Over HTTPS only the exact
// `__Host-session` counts, and a second cookie of the session's name (which a
// sibling subdomain can plant) makes the request use none of them, so it can
// never fixate a session.
import assert from "node:assert/strict";
import { getSession, memoryStore, withSession } from "../../mod.ts";
import { counting, STORES } from "../_helpers.ts";
import {
  cookieNameFor,
  hasRecord,
  HTTP,
  HTTPS,
  plantSession,
  type Report,
  reporter,
  request,
  setCookieValue,
} from "./_attack.ts";

Deno.test("over HTTPS, only the exact __Host-session name loads an HTTPS session", async (t) => {
  const store = memoryStore();
  const victim = await plantSession(store, HTTPS, "victim");
  const app = reporter({ store });
  const loaded = await (await app(request(HTTPS, `__Host-session=${victim}`)))
    .json() as Report;
  assert.equal(loaded.owner, "victim", "the exact name loads it");

  for (
    const name of [
      "__host-session",
      "__HOST-SESSION",
      "__Host-Session",
      "__HOST-session",
      "__Secure-session",
      "__secure-session",
      "Host-session",
      "_Host-session",
      "__Host-session_",
      "__Host--session",
      "session",
      "SESSION",
    ]
  ) {
    await t.step(`${name}=<the HTTPS session's token>`, async () => {
      const report: Report =
        await (await app(request(HTTPS, `${name}=${victim}`))).json();
      assert.equal(report.isNew, true);
      assert.equal(report.owner, undefined);
      assert.ok(await hasRecord(store, victim), "and the session is unharmed");
    });
  }
});

Deno.test("over HTTP, the __Host- cookie is not the session cookie", async () => {
  const store = counting(memoryStore());
  const victim = await plantSession(store, HTTP, "victim");
  const app = reporter({ store });
  const reads = store.reads;
  const report: Report =
    await (await app(request(HTTP, `__Host-session=${victim}`))).json();
  assert.equal(report.owner, undefined);
  assert.equal(store.reads, reads, "not even looked up");
});

for (const url of [HTTP, HTTPS]) {
  const name = cookieNameFor(url);
  Deno.test(`duplicate ${name} cookies: a planted one in either order means no session, never the planted one (${url})`, async (t) => {
    const store = counting(memoryStore());
    const victim = await plantSession(store, url, "victim");
    const attacker = await plantSession(store, url, "attacker");
    const app = reporter({ store });
    const orders: [string, string][] = [
      ["planted first", `${name}=${attacker}; ${name}=${victim}`],
      ["planted last", `${name}=${victim}; ${name}=${attacker}`],
      ["planted first, comma-joined", `${name}=${attacker}, ${name}=${victim}`],
      ["planted last, comma-joined", `${name}=${victim}, ${name}=${attacker}`],
      ["planted garbage first", `${name}=x; ${name}=${victim}`],
      ["planted garbage last", `${name}=${victim}; ${name}=`],
      ["the same token twice", `${name}=${victim}; ${name}=${victim}`],
      [
        "spread over other cookies",
        `a=1; ${name}=${attacker}; b=2; ${name}=${victim}; c=3`,
      ],
    ];
    for (const [order, cookie] of orders) {
      await t.step(order, async () => {
        const reads = store.reads;
        const response = await app(request(url, cookie));
        const report: Report = await response.json();
        assert.equal(report.isNew, true);
        assert.equal(report.owner, undefined);
        assert.equal(store.reads, reads, "neither token is looked up");
        assert.deepEqual(response.headers.getSetCookie(), []);
      });
    }
    await t.step(
      "a value stored then gets a fresh token, neither planted nor the victim's",
      async () => {
        for (
          const [first, second] of [[attacker, victim], [victim, attacker]]
        ) {
          const response = await app(
            request(`${url}?set=new`, `${name}=${first}; ${name}=${second}`),
          );
          const issued = setCookieValue(response, name);
          assert.ok(issued !== undefined);
          assert.notEqual(issued, attacker);
          assert.notEqual(issued, victim);
        }
      },
    );
    await t.step("both sessions are left as they were", async () => {
      for (
        const [token, owner] of [[victim, "victim"], [attacker, "attacker"]]
      ) {
        const report: Report =
          await (await app(request(url, `${name}=${token}`))).json();
        assert.equal(report.owner, owner);
      }
    });
  });
}

Deno.test("session fixation through a planted cookie: the victim's login never binds the attacker's token", async () => {
  const store = memoryStore();
  // The attacker obtains a real session of their own and plants its token in
  // the victim's browser (e.g. from a sibling subdomain, Domain=example.com).
  const planted = await plantSession(store, HTTP, "attacker");
  const app = withSession(async (req) => {
    const session = getSession(req);
    if (new URL(req.url).pathname === "/login") await session.login("victim");
    return Response.json({ user: session.userId });
  }, { store });

  for (
    const cookie of [
      `session=${planted}`, // planted alone
      `session=${planted}; session=x`, // planted next to the victim's own
      `session=x; session=${planted}`,
    ]
  ) {
    const response = await app(request(`${HTTP}login`, cookie));
    const issued = setCookieValue(response, "session");
    assert.ok(issued !== undefined, "login issues a cookie");
    assert.notEqual(issued, planted, "and it is not the planted token");
    // The attacker, holding only the planted token, is not logged in.
    const mine = await app(request(HTTP, `session=${planted}`));
    assert.deepEqual(await mine.json(), { user: null });
  }
});

// A plain-HTTP service on another port of the host (cookies ignore ports), or
// a sibling subdomain setting Domain= the parent, can plant a non-Secure
// cookie whose value holds a comma. Browsers send it as it is.
for (const fixture of STORES) {
  Deno.test(`a planted "x=1,__Host-session=<token>" cookie is one cookie named x, never a session cookie (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const attacker = await plantSession(store, HTTPS, "attacker", "mallory");
      const victim = await plantSession(store, HTTPS, "victim", "ada");
      const app = reporter({ store });
      await t.step(
        "a visitor without a session is not logged into the planted one",
        async () => {
          const report: Report = await (await app(
            request(HTTPS, `x=1,__Host-session=${attacker}`),
          )).json();
          assert.equal(report.isNew, true);
          assert.equal(report.user, null);
          assert.equal(report.owner, undefined);
        },
      );
      await t.step(
        "a signed-in victim stays in their own session",
        async () => {
          for (
            const cookie of [
              `x=1,__Host-session=${attacker}; __Host-session=${victim}`,
              `__Host-session=${victim}; x=1,__Host-session=${attacker}`,
              `x=1,__Host-session=junk; __Host-session=${victim}`,
              `x=1, __Host-session=${attacker}; __Host-session=${victim}`,
            ]
          ) {
            const report: Report = await (await app(request(HTTPS, cookie)))
              .json();
            assert.equal(report.user, "ada", cookie);
            assert.equal(report.owner, "victim", cookie);
          }
        },
      );
      await t.step(
        "over plain HTTP too, a comma never separates cookies",
        async () => {
          const plain = await plantSession(store, HTTP, "plain-attacker");
          const report: Report = await (await app(
            request(HTTP, `a=1, session=${plain}`),
          )).json();
          assert.equal(report.isNew, true);
          assert.equal(report.owner, undefined);
        },
      );
    } finally {
      close();
    }
  });
}
