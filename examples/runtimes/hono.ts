// A visit counter as a Hono app, with sessions in a Deno KV file.
//   deno run --allow-net --allow-env --allow-read --allow-write --unstable-kv examples/runtimes/hono.ts
import { Hono } from "hono";
import { kvStore } from "../../mod.ts";
import { type SessionEnv, sessionMiddleware } from "../../hono.ts";

type Data = { visits: number; language: string };

const store = kvStore(await Deno.openKv("sessions.db"));

const app = new Hono<SessionEnv<Data>>();
app.use(sessionMiddleware({ store }));

app.get("/", (c) => {
  const session = c.get("session"); // typed: Session<Data>
  const chosen = c.req.query("language");
  if (chosen !== undefined) session.set("language", chosen);
  const visits = session.update("visits", (n = 0) => n + 1);
  const language = session.get("language") ?? "en";
  return c.text(
    `visit ${visits}, language ${language}, user ${session.userId}`,
  );
});

app.get("/login", async (c) => {
  await c.get("session").login("ada"); // a new token; "language" survives
  return c.redirect("/", 303);
});

const port = Number(Deno.env.get("PORT") ?? 8000);
Deno.serve({ hostname: "127.0.0.1", port }, app.fetch);
