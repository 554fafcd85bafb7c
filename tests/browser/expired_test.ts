// The demo tells a visitor whose session ended by itself that it expired,
// through session.rejected and expiredNotice, instead of silently showing a
// signed-out page; a visitor who signed out, or never had a session, is told
// nothing of the kind.
import assert from "node:assert/strict";
import { browserTest } from "./_harness.ts";
import { readPanel } from "./_panel.ts";

const IDLE = 1_500;
const EXPIRED = /Your session expired\. Please sign in again\./;

browserTest(
  {
    name:
      'a visitor back after the idle timeout reads "your session expired", and only then',
    screenshot: "session-expired",
    timeouts: {
      idleTimeout: IDLE,
      absoluteTimeout: 60_000,
      allowShortTimeouts: true,
    },
  },
  async ({ demo, page }) => {
    await page.goto(demo.url("https", "/counter"));
    assert.doesNotMatch(await page.innerText("body"), EXPIRED, "a new visitor");
    await page.goto(demo.url("https", "/counter"));
    assert.deepEqual((await readPanel(page)).data, { visits: 2 });
    assert.doesNotMatch(await page.innerText("body"), EXPIRED, "a live one");

    await new Promise((resolve) => setTimeout(resolve, IDLE + 500));
    await page.goto(demo.url("https", "/counter"));
    assert.match(await page.innerText("body"), EXPIRED);
    assert.deepEqual(
      (await readPanel(page)).data,
      { visits: 1 },
      "the expired session's data is gone: a new session",
    );

    // Shown once: the next page of the new session says nothing of it.
    await page.goto(demo.url("https", "/counter"));
    assert.doesNotMatch(await page.innerText("body"), EXPIRED, "shown once");
  },
);
