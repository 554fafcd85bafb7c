// A visit counter on Bun, with sessions in Redis through Bun's own client.
//   REDIS_URL=redis://127.0.0.1:6379 bun examples/runtimes/redis_bun.ts
/// <reference path="./bun_globals.d.ts" />
import { redisStore } from "../../mod.ts";
import { counterApp } from "./_redis_counter.ts";

// Bun's RedisClient has send(command, args): it fits as it is.
const store = redisStore(new Bun.RedisClient(process.env.REDIS_URL));

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 8000),
  fetch: counterApp(store),
});
console.log(`listening on ${server.url}`);
