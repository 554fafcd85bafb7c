// A small app that the cross-runtime test serves from Deno and from Bun over
// one KV file. Runtime-neutral: Web APIs and mod.ts only.
import { getSession, type SessionStore, withSession } from "../../mod.ts";

/** The session's shape. */
export type Data = {
  visits: number;
  language: string;
  last: string;
};

/** The app, answering as `runtime`. */
export function crossRuntimeApp(
  store: SessionStore,
  runtime: string,
): (request: Request) => Promise<Response> {
  return withSession(async (request) => {
    const session = getSession<Data>(request);
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/visit": {
        const visits = session.update("visits", (n = 0) => n + 1);
        session.set("last", runtime);
        return Response.json({ runtime, visits });
      }
      case "/language":
        session.set("language", url.searchParams.get("set")!);
        return Response.json({ runtime });
      case "/login":
        await session.login(url.searchParams.get("user")!);
        return Response.json({ runtime, user: session.userId });
      case "/logout":
        await session.logout();
        return Response.json({ runtime, user: session.userId });
      case "/read":
        return Response.json({
          runtime,
          isNew: session.isNew,
          user: session.userId,
          data: Object.fromEntries(
            session.keys().map((k) => [k, session.get(k)]),
          ),
        });
      default:
        return new Response("not found", { status: 404 });
    }
  }, { store });
}
