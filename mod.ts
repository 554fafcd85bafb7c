/**
 * Server-side sessions for Web-standard servers (Deno, Bun, Hono, Node).
 *
 * The data stays on the server, in Deno KV by default; the browser holds only
 * a random token in a `__Host-` cookie (HTTPS) or a plain cookie (HTTP), and
 * the store keeps only the token's SHA-256. Every save is a compare-and-swap:
 * when requests on one session race, each re-applies its own changes on top
 * of the others', so none is lost.
 *
 * @example A visit counter
 * ```ts
 * import { getSession, memoryStore, withSession } from "@tessera/session";
 *
 * const app = withSession((req) => {
 *   const session = getSession<{ visits: number; language: string }>(req);
 *   const visits = session.update("visits", (n = 0) => n + 1);
 *   return new Response(`visit ${visits}`);
 * }, { store: memoryStore() });
 *
 * // In a server: Deno.serve(app) — with the default Deno KV store when no
 * // `store` is given.
 * const res = await app(new Request("http://localhost/"));
 * console.log(await res.text(), res.headers.get("set-cookie"));
 * ```
 *
 * @module
 */
export {
  currentSession,
  getSession,
  type SessionLookupOptions,
  withSession,
} from "./src/with_session.ts";
export {
  CSRF_FIELD,
  CSRF_HEADER,
  CsrfError,
  type CsrfOptions,
  type CsrfReason,
} from "./src/csrf.ts";
export { defineSession, type SessionDefinition } from "./src/define_session.ts";
export {
  listSessions,
  type ListSessionsOptions,
  type RevokeOptions,
  revokeSession,
  type RevokeSessionOptions,
  revokeUserSessions,
  type StoreCallOptions,
  type UserSession,
} from "./src/accounts.ts";
export type { LoginOptions, Session, SessionRejection } from "./src/session.ts";
export { SESSION_TOKEN_HEADER } from "./src/bearer.ts";
export type {
  SessionEvent,
  SessionEventBase,
  SessionEventListener,
  SessionEventType,
} from "./src/events.ts";
export type {
  SameSite,
  SessionOptions,
  TrustProxyOptions,
} from "./src/options.ts";
export { presets, type SessionPresets } from "./src/presets.ts";
export {
  MissingSessionValueError,
  SessionConflictError,
  SessionStoreError,
  SessionStoreTimeoutError,
  SessionTooLargeError,
} from "./src/errors.ts";
export type {
  SessionStore,
  StoreCheck,
  StoreCommit,
  StoreEntry,
  StoreKey,
  StoreSet,
} from "./src/store.ts";
export {
  type KvAtomicLike,
  type KvLike,
  kvStore,
  type KvStoreOptions,
} from "./src/stores/kv.ts";
export { memoryStore, type MemoryStoreOptions } from "./src/stores/memory.ts";
export {
  type PostgresClient,
  type PostgresStore,
  postgresStore,
  type PostgresStoreOptions,
} from "./src/stores/postgres.ts";
export {
  type RedisClientLike,
  redisStore,
  type RedisStoreOptions,
} from "./src/stores/redis.ts";
