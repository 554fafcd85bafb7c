// SECURITY.md, "another port or HTTP service on the same host can plant
// cookies": cookies are not scoped by port, so a plain-HTTP service on another
// port of the site's host can set a non-Secure cookie whose value holds a
// comma, `x=1,__Host-session=<token>`. Chromium stores it and sends it over
// HTTPS too; it must never be taken for the `__Host-` session cookie.
import assert from "node:assert/strict";
import { SITE } from "./_chromium.ts";
import { browserTest } from "./_harness.ts";
import { cookiesFor } from "./_jar.ts";
import { readPanel } from "./_panel.ts";

/** A plain-HTTP service on another port of the host that plants `cookie`. */
function neighbour(cookie: () => string): {
  url: string;
  close(): Promise<void>;
} {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("<p>an innocent neighbour</p>", {
        headers: {
          "content-type": "text/html",
          "set-cookie": `${cookie()}; Path=/`,
        },
      }),
  );
  return {
    url: `http://${SITE}:${server.addr.port}/`,
    close: () => server.shutdown(),
  };
}

browserTest(
  {
    name:
      'a cookie "x=1,__Host-session=<token>" planted over plain HTTP on another port neither hijacks nor ends the HTTPS session',
    screenshot: "planted-comma-cookie",
  },
  async ({ demo, context, page }) => {
    // The attacker's own HTTPS session, with 5 visits.
    for (let i = 0; i < 5; i++) await page.goto(demo.url("https", "/counter"));
    assert.deepEqual((await readPanel(page)).data, { visits: 5 });
    const attacker = (await cookiesFor(context, page, SITE))
      .find((c) => c.name === "__Host-session")!.value;
    await context.clearCookies();

    let planted = `x=1,__Host-session=${attacker}`;
    const evil = neighbour(() => planted);
    try {
      // A fresh visitor is not logged into the attacker's session.
      await page.goto(evil.url);
      const jar = await cookiesFor(context, page, SITE);
      assert.deepEqual(
        jar.map((c) => [c.name, c.value, c.secure]),
        [["x", `1,__Host-session=${attacker}`, false]],
        "Chromium stored the planted cookie as it is",
      );
      const sent: string[] = [];
      page.on("request", async (request) => {
        const cookie = (await request.allHeaders())["cookie"];
        if (cookie !== undefined) sent.push(cookie);
      });
      await page.goto(demo.url("https", "/counter"));
      assert.ok(
        sent.some((c) => c.includes(`x=1,__Host-session=${attacker}`)),
        `Chromium sent the planted cookie over HTTPS: ${sent.join(" | ")}`,
      );
      assert.deepEqual(
        (await readPanel(page)).data,
        { visits: 1 },
        "a session of its own, not the attacker's sixth visit",
      );

      // A victim with a session of their own stays in it, whatever is planted.
      await page.goto(demo.url("https", "/counter"));
      assert.deepEqual((await readPanel(page)).data, { visits: 2 });
      const victim = (await cookiesFor(context, page, SITE))
        .find((c) => c.name === "__Host-session")!.value;
      for (
        const cookie of [
          `x=1,__Host-session=${attacker}`,
          "y=1,__Host-session=junk",
        ]
      ) {
        planted = cookie;
        await page.goto(evil.url);
        await page.goto(demo.url("https", "/counter"));
        const panel = await readPanel(page);
        assert.equal(panel.channel, "HTTPS");
        assert.ok(
          (panel.data as { visits: number }).visits >= 3,
          `still the victim's own counter after ${cookie}: ${
            JSON.stringify(panel.data)
          }`,
        );
        assert.equal(
          (await cookiesFor(context, page, SITE))
            .find((c) => c.name === "__Host-session")?.value,
          victim,
          "the victim keeps their token",
        );
      }
      assert.deepEqual((await readPanel(page)).data, { visits: 4 });
    } finally {
      await evil.close();
    }
  },
);
