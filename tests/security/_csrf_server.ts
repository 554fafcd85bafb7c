// A Deno.serve server with CSRF protection on, for csrf_test.ts: it checks
// that a form post prints nothing (Deno 2.9 warns once a request's signal is
// touched, which request.clone() does). Argument: "memory" or "kv".
import { getSession, kvStore, memoryStore, withSession } from "../../mod.ts";

const kv = Deno.args[0] === "kv" ? await Deno.openKv(":memory:") : undefined;
const store = kv === undefined ? memoryStore() : kvStore(kv);
const app = withSession(async (req) => {
  const session = getSession(req);
  if (req.method === "GET") {
    session.set("visited", true);
    return new Response(session.csrfToken());
  }
  return new Response(`got ${(await req.formData()).get("item")}`);
}, { store, csrf: true });

const controller = new AbortController();
Deno.addSignalListener("SIGTERM", () => controller.abort());
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  signal: controller.signal,
  onListen({ port }) {
    console.log(`listening on http://127.0.0.1:${port}`);
  },
}, app);
await server.finished;
kv?.close();
