// What `withSession` uses when an option is left out: the default store
// (Deno KV, opened on first need) and the default answer to a failure.
import { CsrfError, csrfRefusal } from "./csrf.ts";
import { SessionStoreError } from "./errors.ts";
import type { SessionStore } from "./store.ts";
import { kvStore } from "./stores/kv.ts";

export function storeGetter(
  store: SessionStore | undefined,
): () => SessionStore | Promise<SessionStore> {
  if (store !== undefined) {
    if (
      typeof store !== "object" || store === null ||
      typeof store.get !== "function" ||
      typeof store.commit !== "function"
    ) {
      throw new TypeError(
        `store must be a SessionStore such as kvStore(kv) or memoryStore(), got ${
          String(store)
        }`,
      );
    }
    return () => store;
  }
  const deno =
    (globalThis as { Deno?: { openKv?: (path?: string) => Promise<unknown> } })
      .Deno;
  if (typeof deno?.openKv !== "function") {
    throw new TypeError(
      'withSession() needs a store on this runtime: pass { store: kvStore(await openKv("sessions.db")) } ' +
        "with openKv from the @deno/kv package, or { store: memoryStore() }",
    );
  }
  const openKv = deno.openKv;
  // Opened on first need, never at import or at withSession() time.
  let opening: Promise<SessionStore> | undefined;
  let opened: SessionStore | undefined;
  return () =>
    opened ?? (opening ??= openKv().then(
      (kv) => opened = kvStore(kv as Parameters<typeof kvStore>[0]),
      (error) => {
        opening = undefined;
        throw new SessionStoreError("Could not open the default Deno KV", {
          cause: error,
        });
      },
    ));
}

export function defaultOnError(error: unknown): Response {
  if (error instanceof CsrfError) return csrfRefusal(error);
  console.error("tessera: session error:", error);
  const status = error instanceof SessionStoreError ? 503 : 500;
  return new Response(
    status === 503 ? "Service Unavailable" : "Internal Server Error",
    {
      status,
      headers: status === 503 ? { "retry-after": "1" } : {},
    },
  );
}
