// Serves crossRuntimeApp from Bun over a KV file, for the cross-runtime
// test: `bun tests/runtimes/_bun_server.ts <path to the KV file>`. Prints
// "listening on <origin>" once it accepts requests.
import { openKv } from "@deno/kv";
import { kvStore } from "../../mod.ts";
import { bunKvOptions } from "../../bun.ts";
import type { BunServeOptions, BunServer } from "../bun/_bun.ts";
import { crossRuntimeApp } from "./_app.ts";

const { Bun, process } = globalThis as unknown as {
  Bun: { version: string; serve(options: BunServeOptions): BunServer };
  process: { argv: string[] };
};
const path = process.argv[2];
if (path === undefined) throw new Error("usage: _bun_server.ts <kv file>");
const kv = await openKv(path, bunKvOptions);
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: crossRuntimeApp(kvStore(kv), `Bun ${Bun.version}`),
});
console.log(`listening on http://127.0.0.1:${server.port}`);
