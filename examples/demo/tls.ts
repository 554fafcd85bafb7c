/**
 * A self-signed certificate for trying HTTPS locally, made with `openssl`.
 *
 * @module
 */
import { join } from "node:path";

/** A PEM certificate and its private key, as `Deno.serve` takes them. */
export interface Certificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * Reads the certificate in `dir`, or makes one there the first time. It is
 * valid for `localhost` and `127.0.0.1`; browsers still warn, since nobody
 * vouches for it, and let you continue.
 *
 * @param dir The folder that keeps `cert.pem` and `key.pem`.
 * @param names Host names and IP addresses the certificate covers.
 * @returns The certificate.
 * @throws {Error} saying what to install when `openssl` is missing.
 */
export async function selfSignedCertificate(
  dir: string,
  names: readonly string[] = ["localhost", "127.0.0.1"],
): Promise<Certificate> {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  try {
    return {
      cert: await Deno.readTextFile(certFile),
      key: await Deno.readTextFile(keyFile),
    };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const altNames = names.map((name) =>
    /^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`
  );
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "365",
        "-subj",
        "/CN=tessera demo",
        "-addext",
        `subjectAltName=${altNames.join(",")}`,
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "HTTPS needs a certificate: install openssl (apt-get install openssl) to make one, or pass --cert and --key",
      );
    }
    throw error;
  }
  if (!output.success) {
    throw new Error(
      `openssl could not make a certificate: ${
        new TextDecoder().decode(output.stderr).trim()
      }`,
    );
  }
  return {
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
  };
}
