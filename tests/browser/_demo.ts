// The demo app under test: HTTP and HTTPS on free ports, sessions in a Deno
// KV file of its own, exactly as `deno task demo` runs it.
import { join } from "node:path";
import type { DemoTimeouts } from "../../examples/demo/app.ts";
import { startDemo } from "../../examples/demo/server.ts";
import {
  type Certificate,
  selfSignedCertificate,
} from "../../examples/demo/tls.ts";
import { SITE } from "./_chromium.ts";

/** The two channels the demo serves. */
export type Scheme = "http" | "https";

/** A running demo and where to reach it. */
export interface TestDemo {
  /**
   * A URL on the demo.
   *
   * @param scheme `http` or `https`.
   * @param path The path, starting with `/`.
   * @param host `SITE` (an ordinary host) or `localhost`.
   */
  url(scheme: Scheme, path: string, host?: string): string;
  /** Stops the demo and deletes its data. */
  close(): Promise<void>;
}

let certificate: Promise<Certificate> | undefined;

/** One self-signed certificate per test run, made with openssl. */
function testCertificate(): Promise<Certificate> {
  return certificate ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "tessera-cert-" });
    try {
      return await selfSignedCertificate(dir, [SITE, "localhost", "127.0.0.1"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
}

/** Starts the demo on free ports of 127.0.0.1, with an empty database. */
export async function startTestDemo(
  timeouts?: DemoTimeouts,
): Promise<TestDemo> {
  const dir = await Deno.makeTempDir({ prefix: "tessera-demo-" });
  try {
    const demo = await startDemo({
      kvPath: join(dir, "sessions.db"),
      hostname: "127.0.0.1",
      httpPort: 0,
      https: { port: 0, certificate: await testCertificate() },
      timeouts,
    });
    return {
      url(scheme, path, host = SITE) {
        const port = scheme === "https" ? demo.ports.https : demo.ports.http;
        return `${scheme}://${host}:${port}${path}`;
      },
      async close() {
        await demo.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
