// A real 3-node Redis Cluster for the tests, on free loopback ports: three
// `redis-server --cluster-enabled yes` processes joined by
// `redis-cli --cluster create`, ready once every node says `cluster_state:ok`.
// Runtime-neutral (node: modules only). A missing redis-server or redis-cli
// is a failure, never a skip: `npm run setup` installs both.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type RedisServer, startRedis } from "./_redis.ts";

/** A running Redis Cluster started by a test. */
export interface RedisCluster {
  /** Its nodes, all masters (no replicas). */
  readonly nodes: readonly RedisServer[];
  /** `redis://127.0.0.1:<port>` of each node. */
  readonly urls: readonly string[];
  /** Stops every node, waits for them to exit and removes their files. */
  stop(): Promise<void>;
}

/** Starts a cluster of `size` masters and resolves once it serves every slot. */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-cluster-"));
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) nodes.push(await startNode(dir, i));
    await cli([
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    await clusterReady(nodes);
    return { nodes, urls: nodes.map((node) => node.url), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One cluster-enabled node; its bus port is chosen free too (the default,
 * port + 10000, may be taken or beyond 65535). */
async function startNode(dir: string, i: number): Promise<RedisServer> {
  for (let attempt = 1;; attempt++) {
    const [port, bus] = [await freePort(), await freePort()];
    try {
      return await startRedis([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${i}-${attempt}.conf`),
        "--cluster-port",
        String(bus),
        "--dir",
        dir,
      ], port);
    } catch (error) {
      const taken = error instanceof Error &&
        /Address already in use/.test(error.message);
      if (!taken || attempt >= 5) throw error;
    }
  }
}

/** Waits (up to 30 s) until every node reports `cluster_state:ok`. */
async function clusterReady(nodes: readonly RedisServer[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const states = await Promise.all(
      nodes.map((node) =>
        cli(["-p", String(node.port), "cluster", "info"]).catch(() => "")
      ),
    );
    if (states.every((info) => info.includes("cluster_state:ok"))) return;
    if (Date.now() > deadline) {
      throw new Error(`the Redis Cluster did not become ready: ${states}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "redis-cli",
      ["-h", "127.0.0.1", ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        reject(
          (error as NodeJS.ErrnoException).code === "ENOENT"
            ? new Error(
              "redis-cli is not installed: run `npm run setup` (the Redis Cluster suites need it)",
            )
            : new Error(`redis-cli ${args.join(" ")} failed: ${stderr}`, {
              cause: error,
            }),
        );
      },
    );
  });
}
