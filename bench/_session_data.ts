// The session data the memory benchmarks store (bench/memory.ts,
// bench/redis_memory.ts, bench/kv_size.ts): about 200 bytes of JSON,
// different in every session.
import { getSession, type SessionStore, withSession } from "../mod.ts";

/** The values of session number `i`. */
export function sessionData(i: number): {
  language: string;
  user: { name: string; email: string };
  cart: number[];
  csrf: string;
  lastPage: string;
} {
  return {
    language: "en",
    user: { name: `User number ${i}`, email: `user${i}@example.com` },
    cart: [1000 + i, 2000 + i, 3000 + i],
    csrf: `csrf-${i.toString(36).padStart(24, "0")}`,
    lastPage: `/products/${i % 997}/details?tab=reviews`,
  };
}

/** An app that stores {@link sessionData}`(i)` for a request to `/?i=<i>`. */
export function sessionWriter(
  store: SessionStore,
): (request: Request) => Promise<Response> {
  return withSession((req) => {
    const session = getSession<ReturnType<typeof sessionData>>(req);
    const values = sessionData(Number(new URL(req.url).searchParams.get("i")));
    for (const [key, value] of Object.entries(values)) {
      session.set(key as keyof typeof values, value as never);
    }
    return new Response(null, { status: 204 });
  }, { store });
}
