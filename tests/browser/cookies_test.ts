// The session cookies as Chromium stores them: none until a value is stored,
// then `session` over HTTP and `__Host-session` over HTTPS, with the
// attributes DESIGN.md promises.
import assert from "node:assert/strict";
import { SITE } from "./_chromium.ts";
import { browserTest } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

/** 32 random bytes, base64url without padding. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

browserTest(
  {
    name:
      "HTTP: no cookie until a value is stored, then an HttpOnly SameSite=Lax `session` cookie",
    screenshot: "cookie-http",
  },
  async ({ demo, context, page }) => {
    // Pages that only read the session must not start one, not even those
    // whose forms carry the CSRF token (the demo runs with csrf: true).
    for (const path of ["/", "/language", "/shopping", "/login", "/devices"]) {
      await page.goto(demo.url("http", path));
    }
    assert.deepEqual(await cookiesFor(context, page, SITE), []);
    assert.match((await readPanel(page)).cookie, /^None yet/);

    await page.goto(demo.url("http", "/counter"));
    const jar = await cookiesFor(context, page, SITE);
    assert.deepEqual(jar.map((c) => c.name), ["session"]);
    const [cookie] = jar;
    assert.match(cookie!.value, TOKEN);
    assert.deepEqual(cookie!.domain, SITE, "host-only: no Domain attribute");
    assert.deepEqual(cookie!.path, "/");
    assert.deepEqual(cookie!.httpOnly, true);
    assert.deepEqual(cookie!.sameSite, "Lax");
    assert.deepEqual(cookie!.secure, false);
    assert.deepEqual(
      cookie!.session,
      true,
      "a browser-session cookie by default",
    );
    // HttpOnly: the page's scripts cannot read the token.
    assert.deepEqual(await page.evaluate("document.cookie"), "");

    await page.reload();
    assert.deepEqual((await readPanel(page)).channel, "HTTP");
    assert.match(
      (await readPanel(page)).cookie,
      new RegExp(`^session ${cookie!.value.slice(0, 8)}`),
    );
  },
);

browserTest(
  {
    name:
      "HTTPS: a `__Host-session` cookie, Secure with Path=/, HttpOnly and SameSite=Lax",
    screenshot: "cookie-https",
  },
  async ({ demo, context, page }) => {
    await page.goto(demo.url("https", "/language"));
    assert.deepEqual(await cookiesFor(context, page, SITE), []);

    await page.getByLabel("Deutsch").check();
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(demo.url("https", "/language"));

    const jar = await cookiesFor(context, page, SITE);
    assert.deepEqual(jar.map((c) => c.name), ["__Host-session"]);
    const [cookie] = jar;
    assert.match(cookie!.value, TOKEN);
    // Chromium keeps a __Host- cookie only when it is Secure, has Path=/ and
    // no Domain: that it is in the jar at all proves those three.
    assert.deepEqual(cookie!.domain, SITE);
    assert.deepEqual(cookie!.path, "/");
    assert.deepEqual(cookie!.secure, true);
    assert.deepEqual(cookie!.httpOnly, true);
    assert.deepEqual(cookie!.sameSite, "Lax");
    assert.deepEqual(cookie!.session, true);
    assert.deepEqual(await page.evaluate("document.cookie"), "");

    const panel = await readPanel(page);
    assert.deepEqual(panel.channel, "HTTPS");
    assert.deepEqual(panel.data, { language: "de" });
    assert.ok(
      await page.getByRole("link", { name: "Sprache" }).isVisible(),
      "the menu follows the stored language",
    );
  },
);
