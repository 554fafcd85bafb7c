// A visit counter on Deno, with sessions in Redis through ioredis.
//   REDIS_URL=redis://127.0.0.1:6379 deno run --allow-net --allow-env examples/runtimes/redis_ioredis.ts
import { Redis } from "ioredis";
import { redisStore } from "../../mod.ts";
import { counterApp } from "./_redis_counter.ts";

const r = new Redis(Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379");
const store = redisStore({ send: (c, a) => r.call(c, ...a) });

const port = Number(Deno.env.get("PORT") ?? 8000);
Deno.serve({ hostname: "127.0.0.1", port }, counterApp(store));
