/**
 * The demo's users. There are no passwords: the login form only shows what
 * `session.login()` does to the session, it authenticates nobody.
 *
 * @module
 */

/** The user ids the login form offers. */
export const DEMO_USERS: readonly string[] = ["alice", "bob", "carol"];

/**
 * Whether a form value names a demo user.
 *
 * @param value The submitted value.
 * @returns `true` for one of {@link DEMO_USERS}.
 */
export function isDemoUser(value: unknown): value is string {
  return typeof value === "string" && DEMO_USERS.includes(value);
}
