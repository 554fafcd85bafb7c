// HTTP and HTTPS never share a session (DESIGN.md, behaviour 5). Cookies are
// not scoped by port, so the demo's HTTP and HTTPS ports on one host are the
// same situation as a site reached first over http:// and then https://.
import assert from "node:assert/strict";
import { SITE } from "./_chromium.ts";
import { browserTest } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

browserTest(
  {
    name:
      "a session started over HTTP is erased, not carried, when the browser comes over HTTPS",
    screenshot: "http-to-https",
  },
  async ({ demo, context, page }) => {
    await page.goto(demo.url("http", "/counter"));
    await page.goto(demo.url("http", "/counter"));
    assert.deepEqual((await readPanel(page)).data, { visits: 2 });
    const [plain] = await cookiesFor(context, page, SITE);
    assert.equal(plain?.name, "session");

    // The browser sends the plain cookie over HTTPS too; tessera must not
    // adopt that session, which anyone on the network could have read.
    await page.goto(demo.url("https", "/counter"));
    const panel = await readPanel(page);
    assert.equal(panel.channel, "HTTPS");
    assert.deepEqual(panel.data, { visits: 1 }, "a new, empty HTTPS session");
    assert.match(panel.otherCookie ?? "", /never crosses to HTTPS/);
    assert.deepEqual(
      (await cookiesFor(context, page, SITE)).map((c) => c.name),
      ["__Host-session"],
      "the plain cookie was cleared",
    );

    // Its contents are gone from the server, not just unlinked: the old
    // token, presented again over HTTP, finds nothing.
    await context.addCookies([{
      name: "session",
      value: plain!.value,
      url: demo.url("http", "/"),
    }]);
    await page.goto(demo.url("http", "/"));
    const after = await readPanel(page);
    assert.deepEqual(after.data, {});
    assert.match(after.cookie, /named no live session/);
  },
);

browserTest(
  {
    name:
      "an HTTPS session is not read over HTTP, even when localhost sends its cookie",
    screenshot: "https-not-over-http",
  },
  async ({ demo, page }) => {
    // Chromium sends Secure cookies to http://localhost (a secure context),
    // so here the browser does not protect the HTTPS session: tessera must.
    const host = "localhost";
    await page.goto(demo.url("https", "/counter", host));
    await page.goto(demo.url("https", "/counter", host));
    assert.deepEqual((await readPanel(page)).data, { visits: 2 });

    const sent = page.waitForRequest(demo.url("http", "/", host));
    await page.goto(demo.url("http", "/", host));
    const cookie = (await (await sent).allHeaders()).cookie ?? "";
    assert.match(cookie, /__Host-session=/, "the browser did send it");
    const panel = await readPanel(page);
    assert.equal(panel.channel, "HTTP");
    assert.deepEqual(panel.data, {});
    assert.match(panel.otherCookie ?? "", /never reads an HTTPS session/);

    // Untouched: the HTTPS session goes on counting.
    await page.goto(demo.url("https", "/counter", host));
    assert.deepEqual((await readPanel(page)).data, { visits: 3 });
    await page.goto(demo.url("http", "/", host));
  },
);

browserTest(
  {
    name: "an HTTPS token copied into the plain HTTP cookie is refused",
    screenshot: "copied-token-refused",
  },
  async ({ demo, context, page }) => {
    await page.goto(demo.url("https", "/login"));
    await page.getByLabel("alice").check();
    await page.locator("main form button[type=submit]").click();
    await page.waitForURL(demo.url("https", "/"));
    const [secure] = await cookiesFor(context, page, SITE);
    assert.equal(secure?.name, "__Host-session");

    // What a network attacker or a careless proxy might try: the HTTPS
    // token, sent as the plain cookie over HTTP.
    await context.addCookies([{
      name: "session",
      value: secure!.value,
      url: demo.url("http", "/"),
    }]);
    await page.goto(demo.url("http", "/"));
    const panel = await readPanel(page);
    assert.equal(panel.user, null, "alice is not logged in over HTTP");
    assert.deepEqual(panel.data, {});

    // Refused, not destroyed: over HTTPS alice is still logged in.
    await page.goto(demo.url("https", "/"));
    assert.equal((await readPanel(page)).user, "alice");
  },
);
