/**
 * Starts the demo: opens the Deno KV file and serves HTTP, and HTTPS when
 * given a certificate. `main.ts` and the browser tests both start it here.
 *
 * @module
 */
import { kvStore, redisStore, type SessionStore } from "@tessera/session";
import { createClient } from "redis";
import { type ChannelPorts, createApp, type DemoTimeouts } from "./app.ts";
import type { Certificate } from "./tls.ts";

/** Options of {@link startDemo}. */
export interface DemoServerOptions {
  /** The Deno KV file that keeps the sessions. */
  readonly kvPath: string;
  /** A Redis that keeps the sessions instead (`--redis`). */
  readonly redisUrl?: string;
  /** The address to listen on. */
  readonly hostname: string;
  /** The plain-HTTP port; 0 picks a free one. */
  readonly httpPort: number;
  /** Serve HTTPS too, on this port (0 picks one) with this certificate. */
  readonly https?: { readonly port: number; readonly certificate: Certificate };
  /** Session timeouts instead of the defaults (for the browser tests). */
  readonly timeouts?: DemoTimeouts;
}

/** A running demo. */
export interface DemoServer {
  /** The ports it listens on. */
  readonly ports: Readonly<ChannelPorts>;
  /** Stops both servers and closes the database. */
  close(): Promise<void>;
}

/**
 * Starts the demo.
 *
 * @param options Where to keep sessions and where to listen.
 * @returns The running demo.
 */
export async function startDemo(
  options: DemoServerOptions,
): Promise<DemoServer> {
  const { store, close } = await openStore(options);
  const ports: ChannelPorts = {};
  const servers: Deno.HttpServer[] = [];
  try {
    const app = await createApp({ store, ports, timeouts: options.timeouts });
    const http = Deno.serve({
      hostname: options.hostname,
      port: options.httpPort,
      onListen: () => {},
    }, app);
    servers.push(http);
    ports.http = http.addr.port;
    if (options.https !== undefined) {
      const https = Deno.serve({
        hostname: options.hostname,
        port: options.https.port,
        cert: options.https.certificate.cert,
        key: options.https.certificate.key,
        onListen: () => {},
      }, app);
      servers.push(https);
      ports.https = https.addr.port;
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.shutdown()));
    close();
    throw error;
  }
  return {
    ports,
    async close() {
      await Promise.all(servers.map((server) => server.shutdown()));
      close();
    },
  };
}

/** The KV file, or the Redis of `--redis` through node-redis. */
async function openStore(
  options: DemoServerOptions,
): Promise<{ store: SessionStore; close(): void }> {
  if (options.redisUrl !== undefined) {
    const r = await createClient({ url: options.redisUrl }).connect();
    return {
      store: redisStore({ send: (c, a) => r.sendCommand([c, ...a]) }),
      close: () => r.destroy(),
    };
  }
  const kv = await Deno.openKv(options.kvPath);
  return { store: kvStore(kv), close: () => kv.close() };
}
