// Type-level tests, checked by `deno task check` (and by `deno test`, which
// type-checks first): withSession keeps the handler's own request type, so
// Bun's `routes` handlers still see `req.params`. The Bun suite
// (tests/bun/serve.spec.ts) serves such a handler for real.
import assert from "node:assert/strict";
import { getSession, memoryStore, withSession } from "../mod.ts";
import type {
  BunRequest,
  BunRouteHandler,
  BunServeOptions,
  BunServer,
} from "./bun/_bun.ts";

/** Type-checks `options` as `Bun.serve()` would, without starting Bun. */
function serveOptions<R extends string>(
  options: BunServeOptions<R>,
): BunServeOptions<R> {
  return options;
}

const store = memoryStore();

Deno.test("withSession keeps a Bun route's request type: req.params is typed", async () => {
  const options = serveOptions({
    routes: {
      // The request type comes from the route's path, through withSession.
      "/users/:id/posts/:post": withSession((req, server) => {
        const id: string = req.params.id;
        const post: string = req.params.post;
        // @ts-expect-error the route has no :name param
        req.params.name;
        const _server: BunServer = server;
        getSession<{ user: string }>(req).set("user", id);
        return new Response(`${id}/${post}`);
      }, { store }),
    },
  });
  // An annotated handler keeps its type as well.
  const annotated: BunRouteHandler<"/a/:x"> = withSession(
    (req: BunRequest<"/a/:x">) => new Response(req.params.x),
    { store },
  );
  // @ts-expect-error a plain Request has no params
  withSession((req: Request) => new Response(req.params), { store });
  // @ts-expect-error a handler for "/a/:x" does not fit the route "/b/:y"
  serveOptions({ routes: { "/b/:y": annotated } });

  // And the request reaches the handler as it was passed, params included.
  const request = Object.assign(
    new Request("http://localhost/users/ada/posts/7"),
    {
      params: { id: "ada", post: "7" },
    },
  );
  const handler = options.routes!["/users/:id/posts/:post"];
  assert.ok(typeof handler === "function");
  const res = await handler(request, {} as BunServer);
  assert.equal(await res.text(), "ada/7");
});
