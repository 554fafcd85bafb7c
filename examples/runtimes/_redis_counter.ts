// The visit counter of the other runtime examples, on any store: the Redis
// examples differ only in the client they hand to redisStore().
import { getSession, type SessionStore, withSession } from "../../mod.ts";

type Data = { visits: number; language: string };

/** `/` counts visits, `?language=` sets the language, `/login` logs in. */
export function counterApp(
  store: SessionStore,
): (request: Request) => Promise<Response> {
  return withSession(async (req) => {
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
}
