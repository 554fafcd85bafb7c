// What a visitor stores stays: the counter across reloads, and the shopping
// list, which the demo changes in place without markChanged().
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { SITE } from "./_chromium.ts";
import { browserTest } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

async function visits(page: Page): Promise<number> {
  return Number(await page.locator("#visits").textContent());
}

for (const scheme of ["http", "https"] as const) {
  browserTest(
    {
      name: `${scheme.toUpperCase()}: the visit counter survives reloads`,
      screenshot: `counter-${scheme}`,
    },
    async ({ demo, context, page }) => {
      await page.goto(demo.url(scheme, "/counter"));
      assert.equal(await visits(page), 1);
      const [first] = await cookiesFor(context, page, SITE);
      assert.ok(first, "the first visit stored a value and set the cookie");

      for (let i = 2; i <= 4; i++) {
        await page.reload();
        assert.equal(await visits(page), i);
      }
      // Another page and back: the count lives in the session, not the page.
      await page.goto(demo.url(scheme, "/"));
      await page.getByRole("link", { name: "Counter" }).first().click();
      await page.waitForURL(demo.url(scheme, "/counter"));
      assert.equal(await visits(page), 5);
      assert.deepEqual((await readPanel(page)).data, { visits: 5 });

      // The token is kept: only login, logout and regenerate replace it.
      const jar = await cookiesFor(context, page, SITE);
      assert.deepEqual(jar.map((c) => [c.name, c.value]), [[
        first.name,
        first.value,
      ]]);
    },
  );
}

browserTest(
  {
    name: "the shopping list, changed in place, persists",
    screenshot: "shopping-list",
  },
  async ({ demo, context, page }) => {
    await page.goto(demo.url("https", "/shopping"));
    for (const item of ["Milk", "Bread", "Eggs"]) {
      await page.getByLabel("Item").fill(item);
      await page.getByRole("button", { name: "Add" }).click();
      await page.locator(`[data-item="${item}"]`).waitFor();
    }
    // Tick off "Bread", remove "Eggs": both only change the stored list in
    // place.
    await page.locator('[data-item="Bread"] button.tick').click();
    await page.locator('[data-item="Bread"].done').waitFor();
    await page.locator('[data-item="Eggs"]').getByRole("button", {
      name: "Remove",
    }).click();
    await page.locator('[data-item="Eggs"]').waitFor({ state: "detached" });

    // A new tab reads the list back from the server.
    const tab = await context.newPage();
    await tab.goto(demo.url("https", "/shopping"));
    const rows = tab.locator("ul.shopping li");
    assert.deepEqual(
      await rows.evaluateAll((lis) =>
        lis.map((li) => [
          li.getAttribute("data-item"),
          li.classList.contains("done"),
        ])
      ),
      [["Milk", false], ["Bread", true]],
    );
    const stored = (await readPanel(tab)).data.shopping as {
      name: string;
      done: boolean;
    }[];
    assert.deepEqual(
      stored.map(({ name, done }) => ({ name, done })),
      [{ name: "Milk", done: false }, { name: "Bread", done: true }],
    );
    await tab.close();
    await page.reload();
  },
);
