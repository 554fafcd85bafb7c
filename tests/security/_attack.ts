// Shared fixtures for the adversarial suite: real stores, real requests, and
// sessions created the way a browser would create them.
import {
  getSession,
  type SessionOptions,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { parseSetCookie, sha256 } from "../_helpers.ts";

export const HTTP = "http://example.com/";
export const HTTPS = "https://example.com/";

/** What tessera accepts as a token: 32 bytes, canonical base64url. */
export const TOKEN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** A well-formed token that tessera never issued. */
export function forgedToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** A request to `url`, with `cookie` as its Cookie header when given. */
export function request(
  url: string,
  cookie?: string,
  init: RequestInit = {},
): Request {
  const headers = new Headers(init.headers);
  if (cookie !== undefined) headers.set("cookie", cookie);
  return new Request(url, { ...init, headers });
}

/** What {@link reporter} answers: the session as the handler saw it. */
export interface Report {
  isNew: boolean;
  keys: string[];
  owner: unknown;
  user: string | null;
}

/**
 * A read-only app that reports the session it was given. A `?set=value`
 * query stores `owner = value` instead of only reading.
 */
export function reporter(
  options: SessionOptions,
): (request: Request) => Promise<Response> {
  return withSession((req) => {
    const session = getSession(req);
    const set = new URL(req.url).searchParams.get("set");
    if (set !== null) session.set("owner", set);
    const report: Report = {
      isNew: session.isNew,
      keys: session.keys(),
      owner: session.get("owner"),
      user: session.userId,
    };
    return Response.json(report);
  }, options);
}

/** The session cookie name for a URL's scheme (default `cookieName`). */
export function cookieNameFor(url: string): string {
  return url.startsWith("https:") ? "__Host-session" : "session";
}

/** The value a response sets for cookie `name`, or `undefined`. */
export function setCookieValue(
  response: Response,
  name: string,
): string | undefined {
  const lines = response.headers.getSetCookie().map(parseSetCookie)
    .filter((c) => c.name === name);
  if (lines.length > 1) throw new Error(`${lines.length} Set-Cookie ${name}`);
  return lines[0]?.value;
}

/**
 * Creates a real session through withSession, as a browser would, holding
 * `owner` (and logged in as `user` when given). Returns its token.
 */
export async function plantSession(
  store: SessionStore,
  url: string,
  owner: string,
  user?: string,
): Promise<string> {
  const app = withSession(async (req) => {
    const session = getSession(req);
    if (user !== undefined) await session.login(user);
    session.set("owner", owner);
    return new Response("planted");
  }, { store, persistentFieldsOnLogin: [] });
  const response = await app(request(url));
  const token = setCookieValue(response, cookieNameFor(url));
  if (token === undefined) throw new Error("no session cookie was issued");
  return token;
}

/** Stores raw bytes (or any value) where tessera keeps the token's record. */
export async function writeRecord(
  store: SessionStore,
  token: string,
  value: Uint8Array,
): Promise<void> {
  const ok = await store.commit({
    checks: [],
    sets: [{ key: ["session", await sha256(token)], value }],
    deletes: [],
  });
  if (ok === null) throw new Error("could not write the record");
}

/** Whether the store holds anything under the token's record key. */
export async function hasRecord(
  store: SessionStore,
  token: string,
): Promise<boolean> {
  return (await store.get(["session", await sha256(token)])) !== null;
}

/** Every header value and the body, to check that nothing is echoed back. */
export async function everythingSent(response: Response): Promise<string> {
  const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`);
  return headers.join("\n") + "\n\n" + await response.clone().text();
}
