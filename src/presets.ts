/**
 * Named option sets for {@link withSession}, spread into its options.
 *
 * @module
 */
import type { SessionOptions } from "./options.ts";

/** The presets: see each one's description. */
export interface SessionPresets {
  /**
   * Settings that meet OWASP ASVS 4.0.3 level 2, chapter V3 (session
   * management), where a library can: re-authentication after 30 minutes
   * idle or 12 hours however busy (V3.3.2), cookies only over HTTPS, so
   * always `Secure` and `__Host-` (V3.4.1, V3.4.4), `SameSite=Lax` (V3.4.3),
   * and CSRF checks on unsafe methods. It leaves `touchInterval` to its
   * default (5 minutes, or `idleTimeout` when shorter), so a shorter
   * `idleTimeout` can be spread over it, and `clearSiteData` off (it clears
   * every subdomain's cookies too). SECURITY.md lists what remains the
   * application's job.
   */
  readonly asvsL2: Readonly<SessionOptions>;
}

/**
 * Option sets to start from: `withSession(handler, { ...presets.asvsL2,
 * store })`. Later options override the preset's.
 *
 * @example ASVS level 2 settings
 * ```ts
 * import { memoryStore, presets, withSession } from "@tessera/session";
 *
 * const app = withSession(() => new Response("hi"), {
 *   ...presets.asvsL2,
 *   store: memoryStore(),
 * });
 * console.log(presets.asvsL2.idleTimeout); // 1800000 (30 minutes)
 * console.log((await app(new Request("https://example.com/"))).status); // 200
 * ```
 */
export const presets: SessionPresets = Object.freeze({
  asvsL2: Object.freeze(
    {
      idleTimeout: 30 * 60_000,
      absoluteTimeout: 12 * 3_600_000,
      sameSite: "Lax",
      httpsOnly: true,
      csrf: true,
    } as const satisfies SessionOptions,
  ),
});
