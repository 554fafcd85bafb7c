// A visit counter on Node, served by @hono/node-server, with sessions in a
// Deno KV file through @deno/kv. Node runs it as JavaScript: the README has
// it as node.mjs; tests/runtimes/examples_test.ts builds this file with
// `bun build --target=node` and runs the result with `node`.
import { serve } from "@hono/node-server";
import { openKv } from "@deno/kv";
import { getSession, kvStore, withSession } from "../../mod.ts";

type Data = { visits: number; language: string };

const store = kvStore(await openKv("sessions.db"));

const app = withSession(async (req) => {
  const session = getSession<Data>(req);
  const url = new URL(req.url);
  if (url.pathname === "/login") {
    await session.login("ada"); // a new token; "language" survives
    return Response.redirect(new URL("/", url), 303);
  }
  const chosen = url.searchParams.get("language");
  if (chosen !== null) session.set("language", chosen);
  const visits = session.update("visits", (n = 0) => n + 1);
  const language = session.get("language") ?? "en";
  return new Response(
    `visit ${visits}, language ${language}, user ${session.userId}`,
  );
}, { store });

const port = Number(process.env.PORT ?? 8000);
serve({ fetch: app, hostname: "127.0.0.1", port }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
