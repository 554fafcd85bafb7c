// A visit counter in an Elysia app on Bun, with sessions in a Deno KV file
// through @deno/kv.
//   bun examples/runtimes/elysia.ts
import { Elysia } from "elysia";
import { openKv } from "@deno/kv";
import { kvStore } from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";
import { session } from "../../elysia.ts";

type Data = { visits: number; language: string };

const store = kvStore(await openKv("sessions.db", bunKvOptions));

const app = new Elysia()
  .use(session<Data>({ store }))
  .get("/", ({ session, query }) => {
    if (query.language !== undefined) session.set("language", query.language);
    const visits = session.update("visits", (n = 0) => n + 1); // typed: number
    const language = session.get("language") ?? "en";
    return `visit ${visits}, language ${language}, user ${session.userId}`;
  })
  .get("/login", async ({ session, redirect }) => {
    await session.login("ada"); // a new token; "language" survives
    return redirect("/", 303);
  })
  .listen({ hostname: "127.0.0.1", port: Number(process.env.PORT ?? 8000) });
console.log(`listening on ${app.server?.url}`);
