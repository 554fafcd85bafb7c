// The demo runs withSession with `csrf: true`: its login, logout and
// sign-out forms carry the session's CSRF token; a login posted from another
// origin, and a signed-in user's posts without the token, are refused. And
// the German language choice reaches the one-shot messages and the devices
// page.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { chooseLanguage, logIn, logOut, notice } from "./_flows.ts";
import { browserTest, saveScreenshot } from "./_harness.ts";
import { readPanel } from "./_panel.ts";

/** 32 random bytes, base64url without padding. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The CSRF token a form of the page carries. */
async function formToken(page: Page, form: string): Promise<string> {
  const field = page.locator(`${form} input[type=hidden][name=_csrf]`);
  assert.equal(await field.count(), 1, `${form} carries one _csrf field`);
  const value = (await field.getAttribute("value"))!;
  assert.match(value, TOKEN);
  return value;
}

/** Posts a form from the page's own origin, with its cookies, as a script
 * on the page could: the status the demo answers. */
async function postFromPage(
  page: Page,
  path: string,
  fields: Record<string, string>,
): Promise<number> {
  return await page.evaluate(
    async ([path, fields]) =>
      (await fetch(path, {
        method: "POST",
        body: new URLSearchParams(fields),
        redirect: "manual",
      })).status,
    [path, fields] as const,
  );
}

browserTest(
  {
    name:
      "demo: login and logout go through forms that carry the CSRF token; forged posts are refused",
    screenshot: "csrf-login-logout",
  },
  async ({ demo, page }) => {
    await page.goto(demo.url("https", "/login"));
    const anonymous = await formToken(page, 'main form[action="/login"]');
    // A login form posted from another origin (here the demo's own plain
    // HTTP channel) is refused before the page runs: nobody is logged in.
    await page.goto(demo.url("http", "/"));
    const [forged] = await Promise.all([
      page.waitForResponse(demo.url("https", "/login")),
      // A string, so no DOM types are needed here: a form that submits.
      page.evaluate(`{
        const form = document.createElement("form");
        form.method = "post";
        form.action = ${JSON.stringify(demo.url("https", "/login"))};
        form.innerHTML = '<input name="user" value="bob">';
        document.body.append(form);
        form.submit();
      }`),
    ]);
    await page.waitForURL(demo.url("https", "/login"));
    assert.equal(forged.status(), 403);
    assert.match(await page.locator("body").innerText(), /CSRF/);
    await page.goto(demo.url("https", "/"));
    assert.equal((await readPanel(page)).user, null);

    await logIn(page, demo, "https", "alice");
    assert.equal((await readPanel(page)).user, "alice");
    const loggedIn = await formToken(page, "header form.account");
    assert.notEqual(loggedIn, anonymous, "login replaces the CSRF token");

    // A forged logout, even with the token from before the login, is
    // refused: alice stays logged in.
    assert.equal(await postFromPage(page, "/logout", {}), 403);
    assert.equal(
      await postFromPage(page, "/logout", { _csrf: anonymous }),
      403,
    );
    // So is a forged "sign out other devices". (The sign-out forms
    // themselves post with their token in devices_test.ts.)
    assert.equal(
      await postFromPage(page, "/devices/sign-out-others", {}),
      403,
    );
    await page.goto(demo.url("https", "/devices"));
    assert.equal((await readPanel(page)).user, "alice");
    await saveScreenshot(page, "csrf-logged-in");

    await logOut(page, demo, "https");
    assert.equal((await readPanel(page)).user, null);
    assert.equal(await notice(page), "You are signed out");
  },
);

browserTest(
  {
    name:
      "demo in German: the messages after login and logout and the devices page are in German",
    screenshot: "german-flash",
  },
  async ({ demo, page }) => {
    await chooseLanguage(page, demo, "Deutsch");
    await logIn(page, demo, "https", "bob");
    assert.equal(await notice(page), "Willkommen, bob");
    await saveScreenshot(page, "german-welcome");

    await page.goto(demo.url("https", "/devices"));
    assert.equal(await page.locator("main h1").textContent(), "Ihre Geräte");
    const main = (await page.locator("main").textContent())!
      .replace(/\s+/g, " ");
    assert.match(main, /bob ist auf 1 Gerät angemeldet/);
    assert.match(main, /Kein anderes Gerät ist als bob angemeldet\./);
    assert.deepEqual(
      (await page.locator("table.devices th").allTextContents()).map((h) =>
        h.trim()
      ),
      ["Gerät", "Angemeldet", "Zuletzt gesehen", "Aktion"],
    );
    assert.equal(
      await page.locator('tr[data-session="current"] .badge').textContent(),
      "Dieses Gerät",
    );
    assert.equal(
      await page.locator('tr[data-session="current"] time').first()
        .textContent(),
      "gerade eben",
    );
    assert.doesNotMatch(main, /signed in|Last seen|This device/);

    await logOut(page, demo, "https");
    assert.equal(await notice(page), "Sie sind abgemeldet");
    assert.deepEqual((await readPanel(page)).data, { language: "de" });
  },
);
