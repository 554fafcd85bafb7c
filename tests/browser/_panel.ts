// Reading the demo's session panel, the way a visitor sees it.
import type { Page } from "playwright-core";

/** What the panel says about the session. */
export interface PanelState {
  /** "HTTP" or "HTTPS". */
  readonly channel: string;
  /** The sentence about the cookie that carried the session. */
  readonly cookie: string;
  /** The bound user, or `null`. */
  readonly user: string | null;
  /** The stored values. */
  readonly data: Record<string, unknown>;
  /** The note shown when the other channel's cookie came along too. */
  readonly otherCookie: string | null;
}

/** Reads the panel of the page currently shown. */
export async function readPanel(page: Page): Promise<PanelState> {
  const panel = page.locator("#session-panel");
  const field = (name: string) =>
    panel.locator(`[data-field="${name}"]`).textContent();
  const note = panel.locator('[data-field="other-cookie"]');
  const user = (await field("user"))!.trim();
  return {
    channel: (await field("channel"))!.trim(),
    cookie: (await field("cookie"))!.replace(/\s+/g, " ").trim(),
    user: user === "—" ? null : user,
    data: JSON.parse((await field("data"))!),
    otherCookie: await note.count() === 0 ? null : await note.textContent(),
  };
}
