// "Your devices" and flash messages. Two Chromium processes with their own
// profiles are two devices of one user: the devices page lists both sessions
// from tessera's per-user index, and signing the other out ends its session.
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium, SITE } from "./_chromium.ts";
import { logIn, notice } from "./_flows.ts";
import { browserTest, saveScreenshot } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

/** The second device claims to be a phone, so the list tells them apart. */
const PHONE =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";

/** A second device: another Chromium, its own profile, stopped afterwards. */
async function withPhone(
  fn: (page: Page, context: BrowserContext) => Promise<void>,
): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "tessera-chromium-" });
  let context: BrowserContext | undefined;
  try {
    context = await launchChromium(profile, { userAgent: PHONE });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(10_000);
    const page = context.pages()[0] ?? await context.newPage();
    await fn(page, context);
  } finally {
    await context?.close();
    await Deno.remove(profile, { recursive: true });
  }
}

/** The rows of the devices page: the device summary, and whether it is this one. */
async function deviceRows(
  page: Page,
): Promise<{ device: string; current: boolean; signOut: boolean }[]> {
  const rows = page.locator("table.devices tbody tr");
  const out = [];
  for (let i = 0; i < await rows.count(); i++) {
    const row = rows.nth(i);
    out.push({
      device: (await row.locator(".device").textContent())!.trim(),
      current: await row.getAttribute("data-session") === "current",
      signOut: await row.getByRole("button", { name: "Sign out" }).count() ===
        1,
    });
  }
  return out;
}

function devicesLink(page: Page) {
  return page.locator('header nav a[href="/devices"]');
}

browserTest(
  {
    name:
      "two devices of one user are listed, and signing out the others ends the other's session",
    screenshot: "devices-signed-out",
  },
  async ({ demo, context, page }) => {
    const laptopAgent = await page.evaluate(() => navigator.userAgent);
    const laptop = /HeadlessChrome\//.test(laptopAgent)
      ? "Headless Chrome on Linux"
      : "Chrome on Linux";

    await withPhone(async (phone, phoneContext) => {
      await phone.goto(demo.url("https", "/"));
      assert.equal(await devicesLink(phone).count(), 0, "no link logged out");

      await logIn(page, demo, "https", "alice");
      await logIn(phone, demo, "https", "alice");
      assert.equal(await devicesLink(phone).count(), 1, "linked once in");

      await devicesLink(page).click();
      await page.waitForURL(demo.url("https", "/devices"));
      assert.deepEqual(await deviceRows(page), [
        // Newest first: the phone logged in last.
        { device: "Chrome on Android", current: false, signOut: true },
        { device: laptop, current: true, signOut: false },
      ]);
      assert.equal(
        await page.locator('tr[data-session="current"] .badge').textContent(),
        "This device",
      );
      // The page shows no token, neither this device's nor the other's.
      const markup = await page.content();
      for (const jar of [context, phoneContext]) {
        const [cookie] = await cookiesFor(jar, jar.pages()[0]!, SITE);
        assert.equal(cookie?.name, "__Host-session");
        assert.ok(!markup.includes(cookie!.value), "no token on the page");
      }
      await saveScreenshot(page, "devices");

      await page.getByRole("button", { name: "Sign out other devices" })
        .click();
      await page.waitForURL(demo.url("https", "/devices"));
      assert.equal(await notice(page), "1 other device signed out");
      assert.deepEqual(await deviceRows(page), [
        { device: laptop, current: true, signOut: false },
      ]);
      assert.equal(await page.locator("#sign-out-others").count(), 0);
      // The laptop is still signed in: this page came after the sign-out.
      assert.equal((await readPanel(page)).user, "alice");

      // The phone's cookie now names no session: it is logged out.
      await phone.reload();
      const panel = await readPanel(phone);
      assert.equal(panel.user, null);
      assert.match(panel.cookie, /named no live session/);
      assert.equal(
        await phone.locator("header a.account").textContent(),
        "Log in",
      );
      assert.equal(await devicesLink(phone).count(), 0);
      await phone.goto(demo.url("https", "/devices"));
      assert.match(
        (await phone.locator("main").textContent())!,
        /You are not logged in/,
      );
    });
  },
);

browserTest(
  {
    name: "one other device is signed out from its row; a stale tab is told",
    screenshot: "devices-sign-out-one",
  },
  async ({ demo, context, page }) => {
    await withPhone(async (phone) => {
      await logIn(phone, demo, "https", "bob");
      await logIn(page, demo, "https", "bob");
      // Another user's session, which nothing here may touch.
      await logIn(phone, demo, "http", "carol");

      await page.goto(demo.url("https", "/devices"));
      const stale = await context.newPage();
      await stale.goto(demo.url("https", "/devices"));
      assert.equal((await deviceRows(stale)).length, 2);

      await page.locator('tr[data-session="other"]')
        .getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(demo.url("https", "/devices"));
      assert.equal(await notice(page), "Chrome on Android signed out");
      assert.deepEqual((await deviceRows(page)).map((r) => r.current), [true]);

      // The second tab still shows the phone: its button now names a
      // session that is gone.
      await stale.locator('tr[data-session="other"]')
        .getByRole("button", { name: "Sign out" }).click();
      await stale.waitForURL(demo.url("https", "/devices"));
      assert.equal(await notice(stale), "That device was already signed out");
      await stale.close();

      // HTTP first: an HTTPS visit would erase the HTTP session, whose
      // cookie comes along (the demo's channel rule, not a sign-out).
      await phone.goto(demo.url("http", "/"));
      assert.equal((await readPanel(phone)).user, "carol", "carol is not");
      await phone.goto(demo.url("https", "/"));
      assert.equal((await readPanel(phone)).user, null, "bob is signed out");
    });
  },
);

browserTest(
  {
    name:
      "HTTP: a flash message is shown once after login and logout, and leaves no session behind",
    screenshot: "flash-gone",
  },
  async ({ demo, context, page }) => {
    await logIn(page, demo, "http", "alice");
    assert.equal(await notice(page), "Welcome, alice");
    await saveScreenshot(page, "flash");
    // Not part of the stored values: a flash is kept apart from them.
    assert.deepEqual((await readPanel(page)).data, {});

    await page.reload();
    assert.equal(await notice(page), null, "gone on reload");
    await page.goto(demo.url("http", "/counter"));
    assert.equal(await notice(page), null);

    await page.locator("header form.account button").click();
    await page.waitForURL(demo.url("http", "/"));
    assert.equal(await notice(page), "You are signed out");
    // The logout kept nothing, so the session existed only to carry the
    // message: once shown, it and its cookie are gone.
    assert.deepEqual(await cookiesFor(context, page, SITE), []);
    assert.match((await readPanel(page)).cookie, /held only the message/);

    await page.reload();
    assert.equal(await notice(page), null, "gone on reload");
    const panel = await readPanel(page);
    assert.equal(panel.user, null);
    assert.match(panel.cookie, /None yet/);
  },
);
