/**
 * Deno KV file size per stored session: 100,000 sessions of about 200 bytes
 * of data each (the data of bench/memory.ts), created through `withSession`
 * on `kvStore` over a fresh KV file; the file's size (with its WAL) after
 * closing, divided by the sessions.
 *
 * Run: `deno run -A --unstable-kv bench/kv_size.ts` (bench/http.ts runs it
 * through bench/redis.ts). Prints one JSON line.
 *
 * @module
 */
import { kvStore } from "../mod.ts";
import { sessionWriter } from "./_session_data.ts";

const SESSIONS = 100_000;
const PARALLEL = 64;

const dir = await Deno.makeTempDir({ prefix: "tessera-kv-size-" });
try {
  const path = `${dir}/sessions.db`;
  const kv = await Deno.openKv(path);
  const app = sessionWriter(kvStore(kv));
  for (let start = 0; start < SESSIONS; start += PARALLEL) {
    await Promise.all(
      Array.from(
        { length: Math.min(PARALLEL, SESSIONS - start) },
        async (_, j) => {
          const res = await app(
            new Request(`http://localhost/?i=${start + j}`),
          );
          if (res.status !== 204) throw new Error(`status ${res.status}`);
        },
      ),
    );
  }
  kv.close();
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith("sessions.db")) {
      bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
    }
  }
  console.log(JSON.stringify({
    sessions: SESSIONS,
    fileBytes: bytes,
    perSession: Math.round(bytes / SESSIONS),
  }));
} finally {
  await Deno.remove(dir, { recursive: true });
}
