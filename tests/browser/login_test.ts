// Login and logout reset the session: a new token, and only the language
// survives (tessera's default persistentFieldsOnLogin / OnLogout).
import assert from "node:assert/strict";
import { SITE } from "./_chromium.ts";
import { chooseLanguage, logIn, logOut } from "./_flows.ts";
import { browserTest } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

browserTest(
  {
    name: "login changes the token, keeps the language and drops the rest",
    screenshot: "login",
  },
  async ({ demo, context, page }) => {
    await chooseLanguage(page, demo, "Deutsch");
    await page.goto(demo.url("https", "/counter"));
    await page.goto(demo.url("https", "/shopping"));
    await page.getByLabel("Item").fill("Milk");
    await page.locator("form.inline button").click();
    await page.locator('[data-item="Milk"]').waitFor();
    assert.deepEqual(Object.keys((await readPanel(page)).data).sort(), [
      "language",
      "shopping",
      "visits",
    ]);
    const [before] = await cookiesFor(context, page, SITE);

    await logIn(page, demo, "https", "bob");
    const jar = await cookiesFor(context, page, SITE);
    assert.deepEqual(jar.map((c) => c.name), ["__Host-session"]);
    assert.notEqual(jar[0]!.value, before!.value, "login issues a new token");
    const panel = await readPanel(page);
    assert.equal(panel.user, "bob");
    assert.deepEqual(panel.data, { language: "de" });
    assert.equal(await page.locator("header .user").textContent(), "bob");

    // The old token named a session that login deleted: presenting it again
    // finds nothing, so a token stolen before login is worthless after it.
    await context.addCookies([{
      name: "__Host-session",
      value: before!.value,
      url: demo.url("https", "/"),
      secure: true,
      httpOnly: true,
      sameSite: "Lax",
    }]);
    await page.goto(demo.url("https", "/"));
    const stale = await readPanel(page);
    assert.equal(stale.user, null);
    assert.deepEqual(stale.data, {});
    assert.match(stale.cookie, /named no live session/);

    // And bob's session is intact under the new token.
    await context.addCookies([{
      name: "__Host-session",
      value: jar[0]!.value,
      url: demo.url("https", "/"),
      secure: true,
      httpOnly: true,
      sameSite: "Lax",
    }]);
    await page.goto(demo.url("https", "/"));
    assert.equal((await readPanel(page)).user, "bob");
  },
);

browserTest(
  {
    name: "logout replaces the token and keeps only the language",
    screenshot: "logout-keeps-language",
  },
  async ({ demo, context, page }) => {
    await chooseLanguage(page, demo, "Français");
    await logIn(page, demo, "https", "alice");
    await page.goto(demo.url("https", "/counter"));
    assert.deepEqual((await readPanel(page)).data, {
      language: "fr",
      visits: 1,
    });
    const [loggedIn] = await cookiesFor(context, page, SITE);

    await logOut(page, demo, "https");
    const jar = await cookiesFor(context, page, SITE);
    assert.deepEqual(jar.map((c) => c.name), ["__Host-session"]);
    assert.notEqual(
      jar[0]!.value,
      loggedIn!.value,
      "logout issues a new token",
    );
    const panel = await readPanel(page);
    assert.equal(panel.user, null);
    assert.deepEqual(panel.data, { language: "fr" });
    assert.equal(
      await page.locator("header a.account").textContent(),
      "Se connecter",
    );
  },
);

browserTest(
  {
    name: "HTTP: logout with nothing to keep removes the session cookie",
    screenshot: "logout-removes-cookie",
  },
  async ({ demo, context, page }) => {
    await logIn(page, demo, "http", "carol");
    await page.goto(demo.url("http", "/counter"));
    assert.equal((await readPanel(page)).user, "carol");
    assert.deepEqual(
      (await cookiesFor(context, page, SITE)).map((c) => c.name),
      ["session"],
    );

    await logOut(page, demo, "http");
    assert.deepEqual(await cookiesFor(context, page, SITE), []);
    const panel = await readPanel(page);
    assert.equal(panel.user, null);
    assert.deepEqual(panel.data, {});
  },
);
