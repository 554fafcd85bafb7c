// `deno task demo --redis <url>`: the demo keeps its sessions in Redis.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { CookieJar, network, tempDir } from "../conformance/_util.ts";
import { startRedis } from "../conformance/_redis.ts";
import { ROOT } from "./_process.ts";

/** Reads `reader` until `pattern` matches, for at most 30 s. */
async function waitFor(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
): Promise<{ match: RegExpMatchArray; output: string }> {
  let output = "";
  const deadline = setTimeout(() => reader.cancel(), 30_000);
  try {
    while (true) {
      const match = output.match(pattern);
      if (match !== null) return { match, output };
      const next = await reader.read();
      if (next.done) throw new Error(`the demo ended:\n${output}`);
      output += next.value;
    }
  } finally {
    clearTimeout(deadline);
  }
}

Deno.test("deno task demo --redis keeps the demo's sessions in Redis", async () => {
  const redis = await startRedis();
  const dir = tempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "demo",
      "--redis",
      redis.url,
      "--port",
      "0",
      "--data",
      dir.path,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { match, output } = await waitFor(
      reader,
      /demo on http:\/\/localhost:(\d+)\/[\s\S]*kept in (\S+)/,
    );
    assert.equal(match[2], redis.url, output);
    const origin = `http://127.0.0.1:${match[1]}`;
    const jar = new CookieJar(network);
    for (let i = 0; i < 2; i++) {
      const response = await jar.fetch(`${origin}/counter`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    assert.ok(jar.get("session"), "the counter stored a session");
    const r = await createClient({ url: redis.url }).connect();
    try {
      const keys = await r.keys("tessera:session/*");
      assert.equal(keys.length, 1, `one session in Redis: ${keys}`);
    } finally {
      r.destroy();
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel().catch(() => {});
    await redis.stop();
    dir.remove();
  }
});
