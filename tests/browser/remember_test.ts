// "Remember me" on the login form: that login's cookie is persistent
// (Max-Age), a login without it keeps a browser-session cookie.
import assert from "node:assert/strict";
import { SITE } from "./_chromium.ts";
import { browserTest } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

browserTest(
  {
    name:
      "demo: remember me gives a persistent cookie, a plain login a browser-session one",
    screenshot: "remember-me",
  },
  async ({ demo, context, page }) => {
    await page.goto(demo.url("https", "/login"));
    await page.getByLabel("bob").check();
    await page.locator("main form button[type=submit]").click();
    await page.waitForURL(demo.url("https", "/"));
    const [plain] = await cookiesFor(context, page, SITE);
    assert.equal(plain!.session, true, "a browser-session cookie");

    await page.goto(demo.url("https", "/login"));
    await page.getByLabel("bob").check();
    await page.getByLabel("Remember me on this device").check();
    await page.locator("main form button[type=submit]").click();
    await page.waitForURL(demo.url("https", "/"));
    const [remembered] = await cookiesFor(context, page, SITE);
    assert.notEqual(remembered!.value, plain!.value, "login rotates");
    assert.equal(remembered!.session, false, "a persistent cookie");
    // rememberFor's default, 30 days, give or take the test's run time.
    const days = (remembered!.expires - Date.now() / 1000) / 86_400;
    assert.ok(days > 29 && days <= 30, `expires in ${days} days`);
    assert.equal((await readPanel(page)).user, "bob");
  },
);
