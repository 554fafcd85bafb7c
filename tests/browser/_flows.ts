// What a visitor does in the demo, step by step, for the browser tests.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Scheme, TestDemo } from "./_demo.ts";

/** Picks a language on the language page (HTTPS) and saves it. */
export async function chooseLanguage(
  page: Page,
  demo: TestDemo,
  label: string,
): Promise<void> {
  await page.goto(demo.url("https", "/language"));
  await page.getByLabel(label).check();
  await page.locator("main form button[type=submit]").click();
  await page.waitForURL(demo.url("https", "/language"));
}

/** Logs in as a demo user through the login form. */
export async function logIn(
  page: Page,
  demo: TestDemo,
  scheme: Scheme,
  user: string,
): Promise<void> {
  await page.goto(demo.url(scheme, "/login"));
  await page.getByLabel(user).check();
  await page.locator("main form button[type=submit]").click();
  await page.waitForURL(demo.url(scheme, "/"));
}

/** Logs out with the header's button. */
export async function logOut(
  page: Page,
  demo: TestDemo,
  scheme: Scheme,
): Promise<void> {
  await page.locator("header form.account button").click();
  await page.waitForURL(demo.url(scheme, "/"));
}

/** The message a redirect left on the page shown, or `null`. */
export async function notice(page: Page): Promise<string | null> {
  const found = page.locator("#notice");
  const n = await found.count();
  assert.ok(n <= 1, `one message at most, found ${n}`);
  return n === 0 ? null : (await found.textContent())!.trim();
}
