// The messages page: a WebSocket whose onmessage counts in the session with
// session.save(); the count survives a reload.
import assert from "node:assert/strict";
import { browserTest } from "./_harness.ts";
import { readPanel } from "./_panel.ts";

browserTest(
  {
    name: "demo: messages sent over a WebSocket are counted in the session",
    screenshot: "messages",
  },
  async ({ demo, page }) => {
    await page.goto(demo.url("https", "/messages"));
    await page.locator("#socket-status", { hasText: "connected" }).waitFor();
    assert.equal(await page.locator("#messages").textContent(), "0");
    for (let sent = 1; sent <= 3; sent++) {
      await page.getByRole("button", { name: "Send a message" }).click();
      await page.locator("#messages", { hasText: String(sent) }).waitFor();
    }
    // Saved by the socket after its response was sent: a new request sees it.
    await page.reload();
    assert.equal(await page.locator("#messages").textContent(), "3");
    assert.equal((await readPanel(page)).data.messages, 3);
  },
);
