// Attacker's checklist, part 6: the scheme. Without trustProxy, headers a
// client can send (X-Forwarded-Proto, Forwarded) change nothing; with it, the
// proxy's word decides which cookie and which channel a request gets.
import assert from "node:assert/strict";
import {
  memoryStore,
  type SessionOptions,
  type SessionStore,
} from "../../mod.ts";
import { parseSetCookie, STORES } from "../_helpers.ts";
import {
  HTTP,
  HTTPS,
  plantSession,
  type Report,
  reporter,
  request,
} from "./_attack.ts";

/** The session cookie a request gets when it stores a value. */
async function issuedCookie(
  store: SessionStore,
  url: string,
  headers: Record<string, string>,
  trustProxy: SessionOptions["trustProxy"],
) {
  const app = reporter({ store, trustProxy });
  const response = await app(request(`${url}?set=v`, undefined, { headers }));
  const lines = response.headers.getSetCookie();
  assert.equal(lines.length, 1, lines.join(" | "));
  return parseSetCookie(lines[0]!);
}

const FORGED_HTTPS: Record<string, string>[] = [
  { "x-forwarded-proto": "https" },
  { forwarded: "proto=https" },
  { forwarded: "for=192.0.2.1;proto=https;by=203.0.113.1" },
  { forwarded: 'proto="https"', "x-forwarded-proto": "https" },
];

Deno.test("trustProxy off (the default): forwarding headers cannot turn plain HTTP into HTTPS", async (t) => {
  const store = memoryStore();
  for (const headers of FORGED_HTTPS) {
    await t.step(JSON.stringify(headers), async () => {
      const cookie = await issuedCookie(store, HTTP, headers, false);
      assert.equal(cookie.name, "session");
      assert.equal(cookie.attributes.has("secure"), false);
    });
  }
  await t.step("and cannot read an HTTPS session over plain HTTP", async () => {
    const token = await plantSession(store, HTTPS, "https-only");
    const app = reporter({ store });
    const report: Report =
      await (await app(request(HTTP, `__Host-session=${token}`, {
        headers: { "x-forwarded-proto": "https", forwarded: "proto=https" },
      }))).json();
    assert.equal(report.owner, undefined);
  });
});

Deno.test("trustProxy off: forwarding headers cannot turn HTTPS into plain HTTP", async (t) => {
  const store = memoryStore();
  for (
    const headers of [
      { "x-forwarded-proto": "http" },
      { forwarded: "proto=http" },
    ] as Record<string, string>[]
  ) {
    await t.step(JSON.stringify(headers), async () => {
      const cookie = await issuedCookie(store, HTTPS, headers, false);
      assert.equal(cookie.name, "__Host-session");
      assert.ok(cookie.attributes.has("secure"));
    });
  }
  await t.step("and an HTTPS session stays readable", async () => {
    const token = await plantSession(store, HTTPS, "https-only");
    const app = reporter({ store });
    const report: Report =
      await (await app(request(HTTPS, `__Host-session=${token}`, {
        headers: { "x-forwarded-proto": "http" },
      }))).json();
    assert.equal(report.owner, "https-only");
  });
});

Deno.test("trustProxy on: the proxy's scheme decides the cookie and the channel", async (t) => {
  const store = memoryStore();
  const FORWARDED = { header: "forwarded" } as const;
  for (
    const [headers, trustProxy] of [
      [{ "x-forwarded-proto": "https" }, true],
      [{ "x-forwarded-proto": "HTTPS " }, 1],
      [{ forwarded: "proto=https" }, FORWARDED],
      [{ forwarded: "for=192.0.2.1;proto=https;by=203.0.113.1" }, FORWARDED],
      [{ forwarded: 'Proto="HTTPS"' }, FORWARDED],
    ] as const
  ) {
    await t.step(
      `http:// URL with ${JSON.stringify(headers)} and trustProxy ${
        JSON.stringify(trustProxy)
      } is HTTPS`,
      async () => {
        const cookie = await issuedCookie(store, HTTP, headers, trustProxy);
        assert.equal(cookie.name, "__Host-session");
        assert.ok(cookie.attributes.has("secure"));
      },
    );
  }
  await t.step(
    "only the header the proxies write counts: the client's other one is ignored",
    async () => {
      // nginx, ALB, Heroku set X-Forwarded-Proto and pass Forwarded on as
      // the client sent it.
      for (
        const headers of [
          { forwarded: "proto=https", "x-forwarded-proto": "http" },
          { forwarded: "proto=https" },
        ] as Record<string, string>[]
      ) {
        assert.equal(
          (await issuedCookie(store, HTTP, headers, true)).name,
          "session",
          JSON.stringify(headers),
        );
      }
      assert.equal(
        (await issuedCookie(store, HTTP, {
          forwarded: "proto=http",
          "x-forwarded-proto": "https",
        }, FORWARDED)).name,
        "session",
      );
      assert.equal(
        (await issuedCookie(store, HTTP, {
          forwarded: "for=192.0.2.1",
          "x-forwarded-proto": "https",
        }, FORWARDED)).name,
        "session",
        "a trusted Forwarded element without proto: the URL counts",
      );
    },
  );
  await t.step(
    "the right-most element, the proxy's own, counts: a client's value to its left does not",
    async () => {
      // A proxy that appends: the client sent the first value.
      assert.equal(
        (await issuedCookie(store, HTTP, {
          forwarded: "proto=https, proto=http",
        }, FORWARDED)).name,
        "session",
      );
      assert.equal(
        (await issuedCookie(
          store,
          HTTP,
          { "x-forwarded-proto": "https, http" },
          true,
        )).name,
        "session",
      );
      assert.equal(
        (await issuedCookie(
          store,
          HTTP,
          { "x-forwarded-proto": "http, https" },
          true,
        )).name,
        "__Host-session",
      );
    },
  );
  await t.step(
    "an https:// URL that the proxy reports as http is plain HTTP",
    async () => {
      const cookie = await issuedCookie(store, HTTPS, {
        "x-forwarded-proto": "http",
      }, true);
      assert.equal(cookie.name, "session");
      assert.equal(cookie.attributes.has("secure"), false);
    },
  );
  await t.step(
    "without forwarding headers, the URL's scheme counts",
    async () => {
      assert.equal(
        (await issuedCookie(store, HTTPS, {}, true)).name,
        "__Host-session",
      );
      assert.equal((await issuedCookie(store, HTTP, {}, true)).name, "session");
    },
  );
  await t.step("the channel rules follow the proxy's scheme", async () => {
    const https = await plantSession(store, HTTPS, "https-only");
    const app = reporter({ store, trustProxy: true });
    const viaProxy: Report =
      await (await app(request(HTTP, `__Host-session=${https}`, {
        headers: { "x-forwarded-proto": "https" },
      }))).json();
    assert.equal(
      viaProxy.owner,
      "https-only",
      "an HTTPS session behind the proxy",
    );
    const downgraded: Report = await (await app(
      request(HTTP, `session=${https}; __Host-session=${https}`, {
        headers: { "x-forwarded-proto": "http" },
      }),
    )).json();
    assert.equal(
      downgraded.owner,
      undefined,
      "never over the proxy's plain HTTP",
    );
  });
});

for (const fixture of STORES) {
  Deno.test(`trustProxy: n reads the element the outermost of n proxies wrote (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const name = async (
        trustProxy: number,
        headers: Record<string, string>,
      ) => (await issuedCookie(store, HTTP, headers, trustProxy)).name;
      await t.step("two proxies: the second value from the right", async () => {
        // client-sent, CDN (outermost trusted), load balancer
        const headers = { "x-forwarded-proto": "http, https, http" };
        assert.equal(await name(2, headers), "__Host-session");
        assert.equal(await name(1, headers), "session");
        assert.equal(await name(3, headers), "session");
      });
      await t.step("Forwarded elements count the same way", async () => {
        assert.equal(
          (await issuedCookie(
            store,
            HTTP,
            { forwarded: "proto=http, proto=https;by=cdn, for=lb" },
            { header: "forwarded", hops: 2 },
          )).name,
          "__Host-session",
        );
      });
      await t.step(
        "fewer elements than proxies: the header is ignored, the URL counts",
        async () => {
          assert.equal(
            await name(3, { "x-forwarded-proto": "https, https" }),
            "session",
          );
          assert.equal(
            (await issuedCookie(
              store,
              HTTPS,
              { "x-forwarded-proto": "http" },
              2,
            ))
              .name,
            "__Host-session",
          );
        },
      );
      await t.step("a hop count that is not 1 to 16 is refused", () => {
        for (
          const bad of [0, -1, 1.5, 17, NaN, { hops: 0 }, {
            header: "x-real-proto",
          }]
        ) {
          assert.throws(
            () =>
              reporter({
                store,
                trustProxy: bad as SessionOptions["trustProxy"],
              }),
            /trustProxy(\.header)? must be/,
            JSON.stringify(bad),
          );
        }
      });
    } finally {
      close();
    }
  });
}
