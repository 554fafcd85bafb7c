// presets.asvsL2: the settings SECURITY.md's ASVS 4.0.3 V3 table relies on,
// checked through their effects, not by reading the preset back.
import assert from "node:assert/strict";
import { getSession, presets, withSession } from "../../mod.ts";
import { parseSetCookie, sha256, STORES } from "../_helpers.ts";
import { forgedToken, HTTP, HTTPS, request, writeRecord } from "./_attack.ts";

const MINUTE = 60_000;

for (const fixture of STORES) {
  Deno.test(`presets.asvsL2 meets ASVS 4.0.3 level 2 session settings (${fixture.name})`, async (t) => {
    const { store, close } = await fixture.open();
    try {
      const app = withSession(async (req) => {
        const session = getSession(req);
        const path = new URL(req.url).pathname;
        if (path === "/login") await session.login("ada");
        if (path === "/logout") await session.logout();
        if (path === "/set") session.set("owner", "me");
        return Response.json({ owner: session.get("owner") ?? null });
      }, { ...presets.asvsL2, store, persistentFieldsOnLogout: [] });

      await t.step(
        "V3.4: the cookie is __Host-, Secure, HttpOnly, SameSite=Lax, browser-session",
        async () => {
          const response = await app(request(`${HTTPS}set`));
          const [line, ...more] = response.headers.getSetCookie();
          assert.equal(more.length, 0);
          const cookie = parseSetCookie(line!);
          assert.equal(cookie.name, "__Host-session");
          assert.ok(cookie.attributes.has("secure"));
          assert.ok(cookie.attributes.has("httponly"));
          assert.equal(cookie.attributes.get("samesite"), "Lax");
          assert.equal(cookie.attributes.get("path"), "/");
          assert.equal(cookie.attributes.has("max-age"), false);
          assert.equal(cookie.attributes.has("domain"), false);
        },
      );

      await t.step(
        "V3.4.1: plain HTTP never gets a session cookie",
        async () => {
          // Storing over plain HTTP is refused outright, in the handler.
          await assert.rejects(
            () => app(request(`${HTTP}set`)),
            /httpsOnly is set and this request came over plain HTTP/,
          );
          const read = await app(request(HTTP));
          assert.deepEqual(read.headers.getSetCookie(), []);
          await read.body?.cancel();
        },
      );

      const record = (owner: string, created: number, seen: number) =>
        new TextEncoder().encode(JSON.stringify({
          v: 1,
          data: { owner },
          created,
          seen,
          https: true,
          user: null,
        }));
      const read = async (created: number, seen: number) => {
        const token = forgedToken();
        await writeRecord(store, token, record("me", created, seen));
        const body = await (await app(
          request(HTTPS, `__Host-session=${token}`),
        )).json();
        return body.owner;
      };
      await t.step(
        "V3.3.2: 30 minutes idle ends the session, 29 do not",
        async () => {
          const now = Date.now();
          assert.equal(await read(now - 60 * MINUTE, now - 29 * MINUTE), "me");
          assert.equal(await read(now - 60 * MINUTE, now - 31 * MINUTE), null);
        },
      );
      await t.step("V3.3.2: 12 hours end a session however busy", async () => {
        const now = Date.now();
        assert.equal(await read(now - 11.9 * 60 * MINUTE, now), "me");
        assert.equal(await read(now - 12.1 * 60 * MINUTE, now), null);
      });

      await t.step(
        "V3.3.1: logout, CSRF-checked, deletes the server record",
        async () => {
          const login = await app(request(`${HTTPS}login`));
          const pair = login.headers.getSetCookie()[0]!.split(";")[0]!;
          const token = pair.slice(pair.indexOf("=") + 1);
          const logout = await app(
            request(`${HTTPS}logout`, pair, {
              method: "POST",
              headers: { "sec-fetch-site": "same-origin" },
            }),
          );
          // The preset turns CSRF checks on: without a token, refused.
          assert.equal(logout.status, 403);
          await logout.body?.cancel();
          const csrf = await (await withSession((req) =>
            Response.json(getSession(req).csrfToken()), {
            ...presets.asvsL2,
            store,
          })(request(HTTPS, pair))).json();
          const out = await app(
            request(`${HTTPS}logout`, pair, {
              method: "POST",
              headers: {
                "x-csrf-token": csrf,
                "sec-fetch-site": "same-origin",
              },
            }),
          );
          assert.equal(out.status, 200);
          await out.body?.cancel();
          // Not in the preset: it would sign the user out of every
          // subdomain's apps too.
          assert.equal(out.headers.get("clear-site-data"), null);
          assert.equal(
            await store.get(["session", await sha256(token)]),
            null,
            "the record is gone",
          );
        },
      );
    } finally {
      close();
    }
  });
}

Deno.test("presets.asvsL2 can be spread under stricter or own settings", () => {
  for (
    const extra of [
      { idleTimeout: 2 * 60_000 },
      { idleTimeout: 15 * 60_000, absoluteTimeout: 15 * 60_000 },
      { sameSite: "Strict" },
      { clearSiteData: true },
    ] as const
  ) {
    assert.equal(
      typeof withSession(() => new Response(), { ...presets.asvsL2, ...extra }),
      "function",
      JSON.stringify(extra),
    );
  }
});
