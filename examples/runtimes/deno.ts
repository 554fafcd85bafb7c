// A visit counter on Deno, with sessions in a Deno KV file.
//   deno run --allow-net --allow-env --allow-read --allow-write --unstable-kv examples/runtimes/deno.ts
import { getSession, kvStore, withSession } from "../../mod.ts";

type Data = { visits: number; language: string };

const store = kvStore(await Deno.openKv("sessions.db"));

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

const port = Number(Deno.env.get("PORT") ?? 8000);
Deno.serve({ hostname: "127.0.0.1", port }, app);
