// Two tabs of one browser share one session and hammer the counter at the
// same time. Every visit must count: tessera's compare-and-swap re-applies
// each request's update() on top of the others' instead of overwriting.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./_harness.ts";
import { readPanel } from "./_panel.ts";

/** Visits per tab, all in flight at once. */
const BURST = 25;

/** Fires `count` visits of the counter from inside the page; their statuses. */
function burst(page: Page, count: number): Promise<number[]> {
  return page.evaluate(
    (n) =>
      Promise.all(
        Array.from(
          { length: n },
          () => fetch("/counter", { cache: "no-store" }).then((r) => r.status),
        ),
      ),
    count,
  );
}

for (const scheme of ["https", "http"] as const) {
  browserTest(
    {
      name:
        `${scheme.toUpperCase()}: two tabs racing increments end at the right count`,
      screenshot: `race-${scheme}`,
    },
    async ({ demo, context, page }) => {
      // One session first: racing requests without a cookie would each
      // start their own.
      await page.goto(demo.url(scheme, "/counter"));
      const other = await context.newPage();
      await other.goto(demo.url(scheme, "/counter"));

      const statuses = await Promise.all([
        burst(page, BURST),
        burst(other, BURST),
      ]);
      assert.deepEqual(statuses.flat(), Array(2 * BURST).fill(200));
      await other.close();

      await page.reload();
      const expected = 2 + 2 * BURST + 1;
      assert.equal(
        Number(await page.locator("#visits").textContent()),
        expected,
      );
      assert.deepEqual((await readPanel(page)).data, { visits: expected });
    },
  );
}
