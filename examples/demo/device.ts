/**
 * A short, human summary of a browser's `User-Agent`, such as "Firefox on
 * Linux": what the demo records with `session.login(user, { device })` so
 * the devices page can tell sessions apart. It is a label, not a security
 * check: any client can send any user agent.
 *
 * @module
 */

/** Most characters kept of a summary. */
const MAX_LENGTH = 60;

/** Browsers by a token of their user agent; the first match wins. */
const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bHeadlessChrome\//, "Headless Chrome"],
  // Chromium builds send "Chrome/" too.
  [/\bChrome\/|\bCriOS\//, "Chrome"],
  [/\bSafari\//, "Safari"],
];

/** Systems likewise: Android and ChromeOS before Linux, iOS before macOS. */
const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/\bAndroid\b/, "Android"],
  [/\biPhone\b|\biPad\b|\biPod\b/, "iOS"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMacintosh\b|\bMac OS X\b/, "macOS"],
  [/\bLinux\b|\bX11\b/, "Linux"],
];

/**
 * What the demo records about a login, shown on the devices page. A type,
 * not an interface, so that it fits `login()`'s `Record<string, unknown>`.
 */
export type LoginMetadata = {
  /** A summary such as "Firefox on Linux". */
  device: string;
};

/**
 * Summarises a user agent.
 *
 * @param userAgent The `User-Agent` header, or `null` when none was sent.
 * @returns "Browser on System", what of it is known, or "Unknown device".
 */
export function deviceSummary(userAgent: string | null): string {
  const ua = userAgent ?? "";
  const browser = BROWSERS.find(([pattern]) => pattern.test(ua))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  const summary = browser !== undefined && system !== undefined
    ? `${browser} on ${system}`
    : browser ??
      (system === undefined ? "Unknown device" : `${system} device`);
  return summary.slice(0, MAX_LENGTH);
}

/**
 * Reads the device summary back from a session's login metadata.
 *
 * @param metadata What `listSessions` reports for the session.
 * @returns The summary, or "Unknown device" when none was recorded.
 */
export function deviceOf(metadata: Record<string, unknown> | null): string {
  const device = metadata?.device;
  return typeof device === "string" && device !== ""
    ? device
    : "Unknown device";
}
