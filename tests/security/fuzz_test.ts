// Attacker's checklist, part 9: 10,000+ generated hostile Cookie headers,
// seeded and reproducible, through withSession over a real store. For each:
// no throw, a response with a status, no store access unless the header
// carries exactly one well-formed token under a session cookie name, and a
// session is loaded exactly when that token is a live session's on the
// request's channel.
//
// Reproduce a failure with TESSERA_FUZZ_SEED=<seed> deno test -A tests/security/fuzz_test.ts
import assert from "node:assert/strict";
import {
  getSession,
  kvStore,
  memoryStore,
  type SessionStore,
  withSession,
} from "../../mod.ts";
import { counting } from "../_helpers.ts";
import {
  forgedToken,
  HTTP,
  HTTPS,
  plantSession,
  request,
  TOKEN,
} from "./_attack.ts";

const SEED = Number(Deno.env.get("TESSERA_FUZZ_SEED") ?? 0x7e55e7a);

/** mulberry32: a small, seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

/** Every byte a header value may hold (Headers refuses NUL, CR and LF). */
const BYTES = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c))
  .filter((c) => !"\0\r\n".includes(c));
const B64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const NEAR = [..."+/=%\"';,. \t\u00a0\u00e9\u00ff\u007f\u0001\\"];

function junk(rng: Rng, max: number): string {
  let s = "";
  for (let n = rng.int(max); n > 0; n--) s += rng.pick(BYTES);
  return s;
}

/** A near miss of a real token: one edit away from well-formed (or not). */
function mutate(rng: Rng, token: string): string {
  const i = rng.int(token.length);
  switch (rng.int(9)) {
    case 0:
      return token.slice(1);
    case 1:
      return token + rng.pick([...B64URL]);
    case 2:
      return token.slice(0, 42) + rng.pick([..."BCDFHJKLNOPRSTVXZ"]);
    case 3:
      return token.slice(0, i) + rng.pick(NEAR) + token.slice(i + 1);
    case 4:
      return `"${token}"`;
    case 5:
      return encodeURIComponent(token).replace(
        /[A-Z]/,
        (c) => "%" + c.charCodeAt(0).toString(16),
      );
    case 6:
      return token.toLowerCase();
    case 7:
      return token.slice(0, i) + rng.pick([...B64URL]) + token.slice(i + 1); // often well-formed
    default:
      return token + token;
  }
}

interface Tokens {
  victim: string; // a live session on the request's channel
  other: string; // a live session on the other channel
  decoy: string; // a live HTTP session that an HTTPS request may erase
}

const NAMES = [
  "session",
  "__Host-session",
  "__host-session",
  "Session",
  "__Secure-session",
  "sessionx",
  "xsession",
  " session",
  "session ",
  "\tsession",
  "",
  "a",
  "_csrf",
];
const SEPARATORS = ["; ", ";", ",", ", ", " ; ", ";\t", ";;", " ", "=", ""];

function value(rng: Rng, tokens: Tokens): string {
  switch (rng.int(10)) {
    case 0:
      return tokens.victim;
    case 1:
      return tokens.other;
    case 2:
      return tokens.decoy;
    case 3:
      return forgedToken();
    case 4:
    case 5:
      return mutate(rng, rng.pick([tokens.victim, tokens.other, tokens.decoy]));
    case 6:
      return "";
    case 7:
      return rng.pick(BYTES).repeat(
        rng.int(3) === 0 ? rng.int(8192) : rng.int(64),
      );
    default:
      return junk(rng, 64);
  }
}

function pair(rng: Rng, tokens: Tokens): string {
  const name = rng.int(4) === 0 ? junk(rng, 12) : rng.pick(NAMES);
  switch (rng.int(8)) {
    case 0:
      return name; // bare name
    case 1:
      return "=" + value(rng, tokens); // value without a name
    default:
      return `${name}=${value(rng, tokens)}`;
  }
}

/** One hostile request: zero, one or two Cookie lines, joined with "; " as
 * Deno.serve and Bun.serve join them. */
function hostileHeaders(rng: Rng, tokens: Tokens): Headers {
  const headers = new Headers();
  const lines = rng.int(10) === 0 ? 0 : rng.int(6) === 0 ? 2 : 1;
  const joined: string[] = [];
  for (let l = 0; l < lines; l++) {
    let line = "";
    for (let n = rng.int(8); n >= 0; n--) {
      line += pair(rng, tokens) + (n > 0 ? rng.pick(SEPARATORS) : "");
    }
    if (rng.int(20) === 0) line = junk(rng, 200);
    joined.push(line);
  }
  if (lines > 0) headers.set("cookie", joined.join("; "));
  return headers;
}

// ---- the oracle: RFC 6265 pairs, written independently of src/_cookie.ts ----

const OWS = /^[ \t]+|[ \t]+$/g;

/** The values of every pair named exactly `name` (RFC 6265 5.4: pairs are
 * split on ";" only; a comma belongs to the value). */
function valuesOf(header: string | null, name: string): string[] {
  if (header === null) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).replace(OWS, "") === name) {
      out.push(part.slice(eq + 1).replace(OWS, ""));
    }
  }
  return out;
}

/** The one well-formed token under `name`, if there is exactly one cookie. */
function single(header: string | null, name: string): string | undefined {
  const values = valuesOf(header, name);
  return values.length === 1 && TOKEN.test(values[0]!) ? values[0] : undefined;
}

async function fuzz(
  inner: SessionStore,
  seed: number,
  runs: number,
): Promise<
  { loaded: number; looked: number; untouched: number; written: number }
> {
  const store = counting(inner);
  const app = withSession((req) => {
    const session = getSession(req);
    if (new URL(req.url).pathname === "/write") session.set("fuzz", true);
    return Response.json({ owner: session.get("owner") ?? null });
  }, { store });
  const rng = prng(seed);
  const failures: string[] = [];
  const stats = { loaded: 0, looked: 0, untouched: 0, written: 0 };
  let decoyHttp = await plantSession(inner, HTTP, "decoy");

  for (let i = 0; i < runs && failures.length < 5; i++) {
    const https = rng.int(2) === 0;
    const url = (https ? HTTPS : HTTP) + (rng.int(8) === 0 ? "write" : "read");
    const victim = https ? victimHttps : victimHttp;
    // Over HTTPS, a plain `session` cookie naming an HTTP session erases it:
    // only the decoy (replanted when erased) plays the HTTP session there.
    const tokens: Tokens = {
      victim,
      other: https ? decoyHttp : victimHttps,
      decoy: decoyHttp,
    };
    const headers = hostileHeaders(rng, tokens);
    const header = headers.get("cookie");
    const name = https ? "__Host-session" : "session";
    const token = single(header, name);
    const plain = https ? single(header, "session") : undefined;
    const mayTouchStore = token !== undefined || plain !== undefined;
    const expected = token === victim
      ? "victim"
      : token === decoyHttp && !https
      ? "decoy"
      : null;
    const writes = url.endsWith("write");

    const reads = store.reads;
    const commits = store.commits.length;
    const where = `seed ${seed}, run ${i}, ${url}, cookie ${
      JSON.stringify(header)
    }`;
    try {
      const response = await app(new Request(url, { headers }));
      assert.ok(response instanceof Response, "a Response");
      assert.equal(response.status, 200, "a status");
      const { owner } = await response.json();
      assert.equal(
        owner,
        expected,
        "loaded iff a live session's token is the one session cookie",
      );
      if (!mayTouchStore) {
        assert.equal(
          store.reads,
          reads,
          "no store read without a well-formed token",
        );
        if (!writes) {
          assert.equal(store.commits.length, commits, "no store write");
        }
      }
      for (const line of response.headers.getSetCookie()) {
        for (
          const presented of [
            ...valuesOf(header, name),
            ...valuesOf(header, "session"),
          ]
        ) {
          if (presented.length >= 16) { // shorter ones occur in tokens by chance
            assert.ok(
              !line.includes(presented),
              `presented value echoed in ${line}`,
            );
          }
        }
      }
      if (expected !== null) stats.loaded++;
      else if (mayTouchStore) stats.looked++;
      else stats.untouched++;
      if (writes) stats.written++;
      if (plain === decoyHttp) {
        decoyHttp = await plantSession(inner, HTTP, "decoy");
      }
    } catch (error) {
      failures.push(
        `${where}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  assert.deepEqual(failures, []);

  // The victims were never harmed by the hostile requests.
  const check = withSession(
    (req) => Response.json(getSession(req).get("owner") ?? null),
    { store: inner },
  );
  assert.equal(
    await (await check(request(HTTP, `session=${victimHttp}`))).json(),
    "victim",
  );
  assert.equal(
    await (await check(request(HTTPS, `__Host-session=${victimHttps}`))).json(),
    "victim",
  );
  return stats;
}

let victimHttp = "";
let victimHttps = "";

async function plantVictims(store: SessionStore): Promise<void> {
  victimHttp = await plantSession(store, HTTP, "victim");
  victimHttps = await plantSession(store, HTTPS, "victim");
}

Deno.test(`10,000 hostile Cookie headers through withSession over memoryStore() (seed ${SEED})`, async () => {
  const store = memoryStore();
  await plantVictims(store);
  const stats = await fuzz(store, SEED, 10_000);
  // The generator reaches every branch of the oracle.
  assert.ok(stats.untouched > 5_000, JSON.stringify(stats));
  assert.ok(stats.looked > 300, JSON.stringify(stats));
  assert.ok(stats.loaded > 150, JSON.stringify(stats));
  assert.ok(stats.written > 1_000, JSON.stringify(stats));
});

Deno.test(`3,000 hostile Cookie headers through withSession over kvStore(:memory:) (seed ${SEED + 1})`, async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = kvStore(kv);
    await plantVictims(store);
    const stats = await fuzz(store, SEED + 1, 3_000);
    assert.ok(stats.loaded > 30, JSON.stringify(stats));
  } finally {
    kv.close();
  }
});
