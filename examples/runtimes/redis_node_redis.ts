// A visit counter on Deno, with sessions in Redis through node-redis.
//   REDIS_URL=redis://127.0.0.1:6379 deno run --allow-net --allow-env examples/runtimes/redis_node_redis.ts
import { createClient } from "redis";
import { redisStore } from "../../mod.ts";
import { counterApp } from "./_redis_counter.ts";

const r = await createClient({ url: Deno.env.get("REDIS_URL") }).connect();
const store = redisStore({ send: (c, a) => r.sendCommand([c, ...a]) });

const port = Number(Deno.env.get("PORT") ?? 8000);
Deno.serve({ hostname: "127.0.0.1", port }, counterApp(store));
