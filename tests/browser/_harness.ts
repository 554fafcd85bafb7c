// One browser test: a fresh demo, a fresh Chromium profile, a screenshot at
// the end, and everything stopped afterwards whatever happened.
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./_chromium.ts";
import type { DemoTimeouts } from "../../examples/demo/app.ts";
import { startTestDemo, type TestDemo } from "./_demo.ts";

/** What a browser test works with. */
export interface BrowserFixture {
  readonly demo: TestDemo;
  readonly context: BrowserContext;
  /** The first tab; the screenshot is taken of it. */
  readonly page: Page;
}

/** Names a browser test and its screenshot. */
export interface BrowserTestName {
  /** What the test shows, as the test runner reports it. */
  readonly name: string;
  /** The screenshot's file name, without `.png`. */
  readonly screenshot: string;
  /** Session timeouts for the demo instead of its defaults. */
  readonly timeouts?: DemoTimeouts;
}

const SCREENSHOTS = new URL("./screenshots/", import.meta.url);

/**
 * Declares a Deno test that runs `fn` against the demo in Chromium and
 * saves `screenshots/<screenshot>.png` of the first tab as the test left it,
 * passed or failed.
 *
 * @param test The test's name and its screenshot's.
 * @param fn The test.
 */
export function browserTest(
  test: BrowserTestName,
  fn: (fixture: BrowserFixture) => Promise<void>,
): void {
  Deno.test(test.name, async () => {
    const demo = await startTestDemo(test.timeouts);
    try {
      await withChromium(async (context) => {
        const page = context.pages()[0] ?? await context.newPage();
        const failure = await fn({ demo, context, page }).then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        try {
          await saveScreenshot(page, test.screenshot);
        } catch (error) {
          // A failed test's own error says more than its missing picture.
          if (failure === undefined) throw error;
        }
        if (failure !== undefined) throw failure.error;
      });
    } finally {
      await demo.close();
    }
  });
}

/**
 * Runs `fn` with headless Chromium on a fresh profile, with bounded waits,
 * and stops the browser and removes the profile afterwards, whatever
 * happened.
 *
 * @param fn What to do with the browser's context.
 */
export async function withChromium(
  fn: (context: BrowserContext) => Promise<void>,
): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "tessera-chromium-" });
  let context: BrowserContext | undefined;
  try {
    context = await launchChromium(profile);
    // Bounded waits: a page that never shows up fails the test in 10 s.
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(10_000);
    await fn(context);
  } finally {
    await context?.close();
    await Deno.remove(profile, { recursive: true });
  }
}

/**
 * Saves `screenshots/<name>.png` of a whole page.
 *
 * @param page The tab.
 * @param name The file name, without `.png`.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: new URL(`${name}.png`, SCREENSHOTS).pathname,
    fullPage: true,
  });
}
