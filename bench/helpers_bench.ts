/**
 * The hot helpers of every request, one by one: `deno task bench`.
 *
 * Cookie parsing, token hashing (and the `crypto.subtle.digest` trap),
 * `AsyncLocalStorage`, the record's JSON round trip, and change detection on
 * a 2 KiB and a 32 KiB session.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomBytes } from "node:crypto";
import { getSession, memoryStore, withSession } from "../mod.ts";
import { findCookie } from "../src/_cookie.ts";
import { isWellFormedToken, newToken, tokenId } from "../src/_token.ts";

const token = newToken();
const header =
  `_ga=GA1.2.1234567890.1700000000; theme=dark; session=${token}; consent=yes`;

// ---- cookie parsing ----

Deno.bench({
  name: "indexOf + slice (hand-written, no checks)",
  group: "cookie parse",
  baseline: true,
  fn: () => {
    const start = header.indexOf("session=");
    const end = header.indexOf(";", start);
    if (header.slice(start + 8, end).length !== 43) throw new Error();
  },
});
Deno.bench({
  name: "findCookie + isWellFormedToken",
  group: "cookie parse",
  fn: () => {
    const found = findCookie(header, "session");
    if (found.kind !== "one" || !isWellFormedToken(found.value)) {
      throw new Error();
    }
  },
});
Deno.bench({
  name: "split + map + find (the common one-liner)",
  group: "cookie parse",
  fn: () => {
    const value = header.split(";").map((p) => p.trim().split("="))
      .find(([k]) => k === "session")?.[1];
    if (value?.length !== 43) throw new Error();
  },
});

// ---- token hashing ----

const bytes = new TextEncoder().encode(token);
Deno.bench({
  name: "tokenId (node:crypto createHash, sync)",
  group: "token hash",
  baseline: true,
  fn: () => {
    tokenId(token);
  },
});
Deno.bench({
  name: "crypto.subtle.digest + base64url (async)",
  group: "token hash",
  fn: async () => {
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    new Uint8Array(digest).toBase64?.({ alphabet: "base64url" }) ??
      btoa(String.fromCharCode(...new Uint8Array(digest)));
  },
});
Deno.bench({
  name: "newToken (32 random bytes, base64url)",
  group: "token hash",
  fn: () => {
    newToken();
  },
});
Deno.bench({
  name: "crypto.getRandomValues + createHash (for scale)",
  group: "token hash",
  fn: () => {
    createHash("sha256").update(randomBytes(32)).digest("base64url");
  },
});

// ---- AsyncLocalStorage ----

const als = new AsyncLocalStorage<object>();
const context = {};
const work = (n: number) => n + 1;
const asyncWork = async (n: number) => await Promise.resolve(n + 1);
Deno.bench({
  name: "direct call",
  group: "AsyncLocalStorage",
  baseline: true,
  fn: () => {
    work(1);
  },
});
Deno.bench({
  name: "als.run(store, fn)",
  group: "AsyncLocalStorage",
  fn: () => {
    als.run(context, work, 1);
  },
});
Deno.bench({
  name: "async fn, direct",
  group: "AsyncLocalStorage",
  fn: async () => {
    await asyncWork(1);
  },
});
Deno.bench({
  name: "async fn in als.run + getStore",
  group: "AsyncLocalStorage",
  fn: async () => {
    await als.run(context, async () => {
      als.getStore();
      return await asyncWork(1);
    });
  },
});

// ---- change detection ----

/** A session value of about `size` bytes of JSON: a list of small objects. */
function payload(size: number) {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < size; i++) {
    items.push({ id: i, name: `item ${i}`, qty: i % 7, tags: ["a", "b"] });
  }
  return items;
}

for (const [label, size] of [["2 KiB", 2048], ["32 KiB", 32768]] as const) {
  const store = memoryStore();
  const group = `change detection, ${label} session`;
  type Data = { cart: ReturnType<typeof payload>; visits: number };
  const create = withSession((req) => {
    getSession<Data>(req).set("cart", payload(size));
    getSession<Data>(req).set("visits", 1);
    return new Response(null);
  }, { store });
  const created = await create(new Request("http://127.0.0.1/"));
  const cookie = created.headers.get("set-cookie")!.split(";")[0]!;
  const request = () =>
    new Request("http://127.0.0.1/", { headers: { cookie } });

  const readsNumber = withSession((req) => {
    return new Response(String(getSession<Data>(req).get("visits")));
  }, { store });
  const readsObject = withSession((req) => {
    return new Response(String(getSession<Data>(req).get("cart")!.length));
  }, { store });
  const changesObject = withSession((req) => {
    const cart = getSession<Data>(req).get("cart")!;
    cart[0]!.qty = (cart[0]!.qty + 1) % 7;
    return new Response(String(cart.length));
  }, { store });
  const value = payload(size);

  Deno.bench({
    name: "request reading a number (no detection)",
    group,
    baseline: true,
    fn: async () => {
      await readsNumber(request());
    },
  });
  Deno.bench({
    name: "request reading the object (checked, unchanged)",
    group,
    fn: async () => {
      await readsObject(request());
    },
  });
  Deno.bench({
    name: "request changing it in place (detected, saved)",
    group,
    fn: async () => {
      await changesObject(request());
    },
  });
  Deno.bench({
    name: "one JSON.stringify of the value (for scale)",
    group,
    fn: () => {
      JSON.stringify(value);
    },
  });
}
