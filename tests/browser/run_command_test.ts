// The README's run command, `deno task demo`, as a newcomer runs it: it
// prints where it listens, serves the pages, and stops cleanly on Ctrl+C.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { launchChromium } from "./_chromium.ts";
import { saveScreenshot } from "./_harness.ts";
import { readPanel } from "./_panel.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** How long the demo may take to start, or to stop. */
const PATIENCE = 20_000;

/** `promise`'s value, or `undefined` when it takes longer than `ms`. */
async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the child's output until `pattern` has matched `count` times.
 *
 * @returns The matches' first groups.
 */
async function waitForLines(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  count: number,
): Promise<string[]> {
  let seen = "";
  const deadline = Date.now() + PATIENCE;
  while (true) {
    const found = [...seen.matchAll(pattern)].map((m) => m[1]!);
    if (found.length >= count) return found;
    const next = await within(reader.read(), deadline - Date.now());
    if (next === undefined) {
      throw new Error(
        `\`deno task demo\` printed no URL in ${PATIENCE} ms. Its output:\n${seen}`,
      );
    }
    if (next.done) {
      throw new Error(
        `\`deno task demo\` ended before printing its URLs (its errors are above). Its output:\n${seen}`,
      );
    }
    seen += next.value;
  }
}

Deno.test("`deno task demo` serves HTTP and HTTPS, then stops on Ctrl+C", async () => {
  const data = await Deno.makeTempDir({ prefix: "tessera-demo-data-" });
  const profile = await Deno.makeTempDir({ prefix: "tessera-chromium-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "demo",
      "--port",
      "0",
      "--https-port",
      "0",
      "--data",
      data,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let stopped = false;
  try {
    const [http, https] = await waitForLines(
      reader,
      /(https?:\/\/localhost:\d+\/)/g,
      2,
    );
    assert.match(http!, /^http:/);
    assert.match(https!, /^https:/);

    const context = await launchChromium(profile);
    try {
      context.setDefaultTimeout(10_000);
      const page = context.pages()[0] ?? await context.newPage();
      await page.goto(http!);
      await page.getByRole("link", { name: "Counter" }).first().click();
      assert.equal(await page.locator("#visits").textContent(), "1");
      // The footer link leads to the same page over HTTPS.
      await page.locator("#other-channel").click();
      await page.waitForURL(/^https:/);
      const panel = await readPanel(page);
      assert.equal(panel.channel, "HTTPS");
      assert.deepEqual(panel.data, { visits: 1 });
      await saveScreenshot(page, "run-command");
    } finally {
      await context.close();
    }
    // The data folder was made on first run, with the KV file and the
    // self-signed certificate in it.
    const files = [...Deno.readDirSync(data)].map((e) => e.name);
    for (const name of ["sessions.db", "cert.pem", "key.pem"]) {
      assert.ok(files.includes(name), `${name} in ${files.join(", ")}`);
    }

    child.kill("SIGINT");
    const status = await within(child.status, PATIENCE);
    stopped = status !== undefined;
    assert.ok(stopped, "the demo stops on Ctrl+C");
    assert.equal(status!.code, 0);
  } finally {
    await reader.cancel();
    if (!stopped) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It had already ended: nothing to stop.
      }
      await child.status;
    }
    await Deno.remove(profile, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});
