// Login CSRF in a real browser. With `csrf: true` an anonymous visitor's
// login form needs no stored session: the check relies on what Chromium
// itself sends (Sec-Fetch-Site, Origin). An attacker's page on another port
// of the same host, or on another site, that auto-submits a login form is
// refused; the site's own form logs in.
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import { getSession, type SessionStore, withSession } from "../../mod.ts";
import { counting, serveLocal, STORES } from "../_helpers.ts";
import { SITE } from "./_chromium.ts";
import { withChromium } from "./_harness.ts";

/** What the app saw of each login post. */
interface Seen {
  site: string | null;
  origin: string | null;
}

function html(body: string, status = 200): Response {
  return new Response(`<!doctype html><meta charset="utf-8">${body}`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** The site: a login form, the login itself, and who is signed in. */
function site(store: SessionStore, seen: Seen[]) {
  return serveLocal(withSession(async (req) => {
    const session = getSession(req);
    const path = new URL(req.url).pathname;
    if (path === "/login" && req.method === "GET") {
      return html(
        `<form method="post" action="/login">
          <input type="hidden" name="_csrf" value="${session.csrfToken()}">
          <input type="hidden" name="user" value="ada">
          <button>Sign in</button>
        </form>`,
      );
    }
    if (path === "/login") {
      seen.push({
        site: req.headers.get("sec-fetch-site"),
        origin: req.headers.get("origin"),
      });
      const user = (await req.formData()).get("user");
      await session.login(String(user));
      return html(`<p id="who">signed in as ${session.userId}</p>`);
    }
    return html(`<p id="who">${session.userId ?? "anonymous"}</p>`);
  }, { store, csrf: true }));
}

/** The attacker: a page that posts a login form to `target` on load. */
function attacker(target: string) {
  return serveLocal(() =>
    html(
      `<form method="post" action="${target}/login">
        <input type="hidden" name="user" value="mallory">
        <input type="hidden" name="_csrf" value="guessed">
      </form>
      <script>document.forms[0].submit()</script>`,
    )
  );
}

async function whoIsSignedIn(
  context: BrowserContext,
  origin: string,
): Promise<string> {
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/whoami`);
    return await page.locator("#who").innerText();
  } finally {
    await page.close();
  }
}

Deno.test("login CSRF in Chromium: a forged login from another port or site is refused, the site's own form signs in", async (t) => {
  await withChromium(async (context) => {
    for (const fixture of STORES) {
      await t.step(fixture.name, async () => {
        const { store: inner, close } = await fixture.open();
        const store = counting(inner);
        const seen: Seen[] = [];
        const app = site(store, seen);
        // localhost is a secure context to Chromium, like an HTTPS site.
        const origin = `http://localhost:${app.port}`;
        const evil = attacker(origin);
        try {
          await context.clearCookies();
          for (
            const page of [
              `http://localhost:${evil.port}/`, // another port, same host
              `http://${SITE}:${evil.port}/`, // another site
            ]
          ) {
            const tab = await context.newPage();
            const response = tab.waitForResponse(`${origin}/login`);
            await tab.goto(page);
            assert.equal((await response).status(), 403, page);
            await tab.close();
            assert.equal(await whoIsSignedIn(context, origin), "anonymous");
          }
          assert.equal(store.commits.length, 0, "nothing was stored");
          assert.deepEqual(seen, [], "the handler never saw a forged login");

          const tab = await context.newPage();
          await tab.goto(`${origin}/login`);
          assert.equal(store.commits.length, 0, "the form stored nothing");
          await tab.getByRole("button", { name: "Sign in" }).click();
          assert.equal(
            await tab.locator("#who").innerText(),
            "signed in as ada",
          );
          await tab.close();
          assert.equal(await whoIsSignedIn(context, origin), "ada");
          assert.deepEqual(seen, [{ site: "same-origin", origin }]);

          // Signed in, the session has a token the attacker cannot know.
          const again = await context.newPage();
          const refused = again.waitForResponse(`${origin}/login`);
          await again.goto(`http://localhost:${evil.port}/`);
          assert.equal((await refused).status(), 403);
          await again.close();
          assert.equal(await whoIsSignedIn(context, origin), "ada");
        } finally {
          await evil.close();
          await app.close();
          close();
        }
      });
    }
  });
});
