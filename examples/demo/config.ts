/**
 * The demo's settings, from command-line flags, then environment variables,
 * then defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

/** How the demo runs. */
export interface DemoConfig {
  readonly hostname: string;
  readonly httpPort: number;
  /** `undefined`: HTTP only. */
  readonly httpsPort: number | undefined;
  /** PEM files; both absent: a self-signed certificate in `dataDir`. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  /** Holds the Deno KV file and the generated certificate. */
  readonly dataDir: string;
  /** Keep sessions in this Redis instead of the KV file. */
  readonly redisUrl: string | undefined;
}

/** What `--help` prints. */
export const USAGE = `tessera demo: server-side sessions in a browser

Usage: deno task demo [options]

  --port N          HTTP port (env PORT; default 8000)
  --https-port N    also serve HTTPS on this port (env HTTPS_PORT)
  --cert FILE       PEM certificate for HTTPS (env TLS_CERT)
  --key FILE        PEM private key for HTTPS (env TLS_KEY)
                    Without them, a self-signed certificate is made with
                    openssl and kept in the data folder.
  --hostname NAME   address to listen on (default 127.0.0.1)
  --data DIR        where sessions.db lives (env DEMO_DATA;
                    default examples/demo/data)
  --redis URL       keep sessions in Redis instead, e.g.
                    redis://127.0.0.1:6379 (redisStore through node-redis)
  --help            show this text
`;

const DEFAULT_DATA = fileURLToPath(new URL("./data/", import.meta.url));
const DEFAULT_HTTPS_PORT = 8443;

/**
 * Reads the settings.
 *
 * @param args The command-line arguments.
 * @param env Reads an environment variable.
 * @returns The settings, or `"help"` when `--help` was asked for.
 * @throws {Error} naming the flag whose value is unusable.
 */
export function readConfig(
  args: readonly string[],
  env: (name: string) => string | undefined,
): DemoConfig | "help" {
  const { values } = parseArgs({
    args: [...args],
    options: {
      port: { type: "string" },
      "https-port": { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      hostname: { type: "string" },
      data: { type: "string" },
      redis: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const certFile = values.cert ?? env("TLS_CERT");
  const keyFile = values.key ?? env("TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new Error("--cert and --key go together: give both, or neither");
  }
  const httpsFlag = values["https-port"] ?? env("HTTPS_PORT");
  return {
    // No environment variable: shells set HOSTNAME to the machine's name.
    hostname: values.hostname ?? "127.0.0.1",
    httpPort: port("--port", values.port ?? env("PORT") ?? "8000"),
    // A certificate alone is a request for HTTPS, on the usual demo port.
    httpsPort: httpsFlag !== undefined
      ? port("--https-port", httpsFlag)
      : certFile !== undefined
      ? DEFAULT_HTTPS_PORT
      : undefined,
    certFile,
    keyFile,
    dataDir: values.data ?? env("DEMO_DATA") ?? DEFAULT_DATA,
    redisUrl: redisUrl(values.redis),
  };
}

function redisUrl(text: string | undefined): string | undefined {
  if (text !== undefined && !/^rediss?:\/\/./.test(text)) {
    throw new Error(
      `--redis needs a redis:// or rediss:// URL, got "${text}"`,
    );
  }
  return text;
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) {
    throw new Error(
      `${flag} needs a port number from 0 to 65535, got "${text}"`,
    );
  }
  return n;
}
