// A visit counter on Bun, with sessions in a Deno KV file through @deno/kv.
//   bun examples/runtimes/bun.ts
/// <reference path="./bun_globals.d.ts" />
import { openKv } from "@deno/kv";
import { getSession, kvStore, withSession } from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";

type Data = { visits: number; language: string };

const store = kvStore(await openKv("sessions.db", bunKvOptions));

const counter = withSession((req) => {
  const session = getSession<Data>(req);
  const chosen = new URL(req.url).searchParams.get("language");
  if (chosen !== null) session.set("language", chosen);
  const visits = session.update("visits", (n = 0) => n + 1);
  const language = session.get("language") ?? "en";
  return new Response(
    `visit ${visits}, language ${language}, user ${session.userId}`,
  );
}, { store });

const login = withSession(async (req) => {
  await getSession(req).login("ada"); // a new token; "language" survives
  return Response.redirect(new URL("/", req.url), 303);
}, { store });

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 8000),
  routes: { "/login": login }, // Bun's routes take withSession handlers too
  fetch: counter,
});
console.log(`listening on ${server.url}`);
