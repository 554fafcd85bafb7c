// Serves crossRuntimeApp from Bun over a KV file or a Redis, for the
// cross-runtime test: `bun tests/runtimes/_bun_server.ts <KV file | redis://…>`.
// Prints "listening on <origin>" once it accepts requests.
import { openKv } from "@deno/kv";
import { kvStore, redisStore, type SessionStore } from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";
import type { BunServeOptions, BunServer } from "../bun/_bun.ts";
import { crossRuntimeApp } from "./_app.ts";

const { Bun, process } = globalThis as unknown as {
  Bun: {
    version: string;
    serve(options: BunServeOptions): BunServer;
    RedisClient: new (url: string) => {
      send(command: string, args: string[]): Promise<unknown>;
    };
  };
  process: { argv: string[] };
};
const path = process.argv[2];
if (path === undefined) {
  throw new Error("usage: _bun_server.ts <kv file | redis://…>");
}
const store: SessionStore = path.startsWith("redis://")
  ? redisStore(new Bun.RedisClient(path)) // Bun's client, as it is
  : kvStore(await openKv(path, bunKvOptions));
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: crossRuntimeApp(store, `Bun ${Bun.version}`),
});
console.log(`listening on http://127.0.0.1:${server.port}`);
