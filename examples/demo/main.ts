/**
 * Runs the demo: `deno task demo`, then open http://localhost:8000.
 *
 * @module
 */
import { join } from "node:path";
import { readConfig, USAGE } from "./config.ts";
import { startDemo } from "./server.ts";
import { type Certificate, selfSignedCertificate } from "./tls.ts";

if (import.meta.main) {
  let config;
  try {
    config = readConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (config === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  await Deno.mkdir(config.dataDir, { recursive: true });
  let certificate: Certificate | undefined;
  if (config.httpsPort !== undefined) {
    certificate = config.certFile !== undefined && config.keyFile !== undefined
      ? {
        cert: await Deno.readTextFile(config.certFile),
        key: await Deno.readTextFile(config.keyFile),
      }
      : await selfSignedCertificate(config.dataDir);
  }
  let demo;
  try {
    demo = await startDemo({
      kvPath: join(config.dataDir, "sessions.db"),
      redisUrl: config.redisUrl,
      hostname: config.hostname,
      httpPort: config.httpPort,
      https: certificate && { port: config.httpsPort!, certificate },
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    console.error(
      `A port is taken (${error.message}): pick others with --port and --https-port`,
    );
    Deno.exit(1);
  }
  const host = ["127.0.0.1", "0.0.0.0", "localhost", "::1", "::"].includes(
      config.hostname,
    )
    ? "localhost"
    : config.hostname;
  console.log(`tessera demo on http://${host}:${demo.ports.http}/`);
  if (demo.ports.https !== undefined) {
    console.log(
      `         and on https://${host}:${demo.ports.https}/` +
        (config.certFile === undefined
          ? " (self-signed: your browser will ask you to accept it)"
          : ""),
    );
  }
  console.log(
    `Sessions are kept in ${
      config.redisUrl ?? join(config.dataDir, "sessions.db")
    }`,
  );
  console.log("Press Ctrl+C to stop.");
  let stopping: Promise<void> | undefined;
  const stop = () => stopping ??= demo.close().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") {
    Deno.addSignalListener("SIGTERM", stop);
    // A closed terminal, too.
    Deno.addSignalListener("SIGHUP", stop);
  }
}
