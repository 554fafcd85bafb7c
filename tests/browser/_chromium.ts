// Finding the system's Chromium and starting it headless: the tests never
// download a browser, they drive the one `apt-get install chromium` gives.
import { type BrowserContext, chromium } from "playwright-core";

/** The host name the tests use for a site that is not `localhost`. */
export const SITE = "tessera.test";

/**
 * The Chromium binary: `$CHROMIUM_PATH`, or the first `chromium` or
 * `chromium-browser` on `$PATH`, as `which chromium` finds it.
 *
 * @throws {Error} saying how to install it, so a machine without a browser
 * fails the suite instead of skipping it.
 */
export async function findChromium(): Promise<string> {
  const given = Deno.env.get("CHROMIUM_PATH");
  if (given !== undefined && given !== "") {
    if (await isExecutable(given)) return given;
    throw new Error(
      `CHROMIUM_PATH is set to ${given}, which is not an executable file`,
    );
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    for (const name of ["chromium", "chromium-browser"]) {
      const path = `${dir}/${name}`;
      if (await isExecutable(path)) return path;
    }
  }
  throw new Error(
    "The browser tests need Chromium and found none on PATH. Install it with " +
      "`apt-get install chromium` (.ci/run does this in CI), or set CHROMIUM_PATH " +
      "to a Chromium binary.",
  );
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** The `User-Agent` to send instead of headless Chromium's own. */
  readonly userAgent?: string;
}

/**
 * Starts headless Chromium with a fresh profile.
 *
 * @param userDataDir An empty folder for the profile (cookies start empty).
 * @param options What to change about the browser.
 * @returns The browser's only context; closing it stops the browser.
 */
export async function launchChromium(
  userDataDir: string,
  options: LaunchOptions = {},
): Promise<BrowserContext> {
  return await chromium.launchPersistentContext(userDataDir, {
    executablePath: await findChromium(),
    headless: true,
    userAgent: options.userAgent,
    // The demo's certificate is self-signed, made by the test.
    ignoreHTTPSErrors: true,
    timeout: 30_000,
    viewport: { width: 1200, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Chromium treats http://localhost as a secure context, unlike any
      // real site. SITE resolves to the demo too, so the tests can see how
      // the browser treats plain HTTP on an ordinary host. Every other name
      // fails to resolve: the suite never leaves this machine.
      `--host-resolver-rules=MAP ${SITE} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost`,
    ],
  });
}
