// The README's run commands, `deno task demo` and `npm start`, as a newcomer
// runs them: they print where they listen, serve the pages, and stop
// cleanly, leaving no process behind.
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

/** Whether something still listens on `port` of 127.0.0.1. */
function listening(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return true;
    throw error;
  }
}

Deno.test("`npm start` leaves no process holding the port, after Ctrl+C or a kill of npm", async (t) => {
  // Ctrl+C in a terminal signals every process of the foreground group;
  // `kill <npm's pid>` signals npm alone, which must pass it on.
  const ways: [string, (npm: number) => void][] = [
    ["Ctrl+C", (npm) => Deno.kill(-npm, "SIGINT")],
    ["a kill of the npm process", (npm) => Deno.kill(npm, "SIGTERM")],
  ];
  for (const [how, stop] of ways) {
    await t.step(how, async () => {
      const data = await Deno.makeTempDir({ prefix: "tessera-demo-data-" });
      // setsid: npm leads a process group of its own, as in a terminal, so
      // that the test can signal (and, if need be, end) exactly that group.
      const npm = new Deno.Command("setsid", {
        args: ["npm", "start", "--", "--port", "0", "--data", data],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const reader = npm.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      try {
        const [url] = await waitForLines(
          reader,
          /(http:\/\/localhost:\d+\/)/g,
          1,
        );
        const port = Number(new URL(url!).port);
        assert.equal((await fetch(url!)).status, 200);
        assert.ok(listening(port));

        stop(npm.pid);
        assert.ok(
          await within(npm.status, PATIENCE) !== undefined,
          "npm ends",
        );
        const deadline = Date.now() + PATIENCE;
        while (listening(port) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(!listening(port), `port ${port} is free after ${how}`);
      } finally {
        await reader.cancel();
        try {
          // Whatever is left of the group this test started.
          Deno.kill(-npm.pid, "SIGKILL");
        } catch {
          // Nothing left: the group is gone.
        }
        await npm.status;
        await Deno.remove(data, { recursive: true });
      }
    });
  }
});
