// The runtime examples of the README, run as they are: Deno, Bun, Hono (on
// Deno), Elysia (on Bun) and Node (@hono/node-server with @deno/kv), each
// in its own process, each tested over real HTTP on loopback.
import assert from "node:assert/strict";
import { CookieJar, network, tempDir } from "../conformance/_util.ts";
import { startRedis } from "../conformance/_redis.ts";
import { ROOT, run, startServer, tool } from "./_process.ts";

const DENO_RUN = [
  "run",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--unstable-kv",
  "--config",
  `${ROOT}deno.json`,
];

/** The scenario every example must pass. */
async function visitCounter(origin: string): Promise<void> {
  const jar = new CookieJar(network);
  const first = await jar.fetch(`${origin}/?language=de`);
  assert.equal(await first.text(), "visit 1, language de, user null");
  assert.match(
    first.headers.get("set-cookie") ?? "",
    /^session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
  );
  const second = await jar.fetch(`${origin}/`);
  assert.equal(await second.text(), "visit 2, language de, user null");
  assert.equal(second.headers.get("set-cookie"), null);
  const anonymous = jar.get("session");
  const login = await jar.fetch(`${origin}/login`);
  assert.equal(login.status, 303);
  await login.body?.cancel();
  assert.notEqual(jar.get("session"), anonymous);
  assert.equal(await jar.text(`${origin}/`), "visit 1, language de, user ada");
}

async function serveExample(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<void> {
  const dir = tempDir();
  const server = await startServer(command, args, {
    cwd: dir.path,
    env: { PORT: "0", ...env },
  });
  try {
    await visitCounter(server.url);
  } catch (error) {
    console.error(`server output:\n${server.output()}`);
    throw error;
  } finally {
    await server.close();
    dir.remove();
  }
}

Deno.test("examples/runtimes/deno.ts serves sessions on Deno", async () => {
  await serveExample(Deno.execPath(), [
    ...DENO_RUN,
    `${ROOT}examples/runtimes/deno.ts`,
  ]);
});

Deno.test("examples/runtimes/hono.ts serves sessions from a Hono app", async () => {
  await serveExample(Deno.execPath(), [
    ...DENO_RUN,
    `${ROOT}examples/runtimes/hono.ts`,
  ]);
});

Deno.test("examples/runtimes/bun.ts serves sessions on Bun", async () => {
  await serveExample(tool("bun"), [`${ROOT}examples/runtimes/bun.ts`]);
});

Deno.test("examples/runtimes/elysia.ts serves sessions from an Elysia app on Bun", async () => {
  await serveExample(tool("bun"), [`${ROOT}examples/runtimes/elysia.ts`]);
});

Deno.test("examples/runtimes/node.ts serves sessions on Node", async () => {
  // Node runs JavaScript: build the example as users get it from JSR's npm
  // layer, with its npm imports left to node_modules. The bundle lives under
  // node_modules/ so that Node resolves those imports.
  const out =
    `${ROOT}node_modules/.cache/tessera-tests/node-${crypto.randomUUID()}.mjs`;
  try {
    await run(tool("bun"), [
      "build",
      `${ROOT}examples/runtimes/node.ts`,
      "--target=node",
      "--packages=external",
      `--outfile=${out}`,
    ]);
    await serveExample("node", [out]);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
});

for (
  const [example, command, args] of [
    ["redis_bun.ts", () => tool("bun"), []],
    ["redis_node_redis.ts", () => Deno.execPath(), DENO_RUN],
    ["redis_ioredis.ts", () => Deno.execPath(), DENO_RUN],
  ] as const
) {
  Deno.test(`examples/runtimes/${example} serves sessions from Redis`, async () => {
    const redis = await startRedis();
    try {
      await serveExample(
        command(),
        [...args, `${ROOT}examples/runtimes/${example}`],
        { REDIS_URL: redis.url },
      );
    } finally {
      await redis.stop();
    }
  });
}
