// Starting a server in a child process for a Deno test: bounded waits, and
// always stopped. The child prints "listening on <origin>" when ready.

/** The repository root. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** A tool installed by `npm ci` (node_modules/.bin), else from PATH. */
export function tool(name: string): string {
  const local = `${ROOT}node_modules/.bin/${name}`;
  try {
    Deno.statSync(local);
    return local;
  } catch {
    return name;
  }
}

/** A server running in a child process. */
export interface ChildServer {
  /** The origin it printed. */
  readonly url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Stops it and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Runs `command args…` (from the repository root unless `cwd` says
 * otherwise) and waits, at most
 * `timeoutMs`, for its "listening on <origin>" line.
 */
export async function startServer(
  command: string,
  args: string[],
  { cwd = ROOT, env = {}, timeoutMs = 30_000 }: {
    cwd?: string;
    env?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<ChildServer> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let ready!: (url: string) => void;
  const listening = new Promise<string>((resolve) => ready = resolve);
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      const match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/i);
      if (match) ready(match[1]!);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const exited = child.status.then((status) => {
    throw new Error(
      `${command} ${
        args.join(" ")
      } exited (${status.code}) before listening:\n${output}`,
    );
  });
  exited.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `${command} did not listen within ${timeoutMs} ms:\n${output}`,
          ),
        ),
      timeoutMs,
    );
  });
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await child.status;
    await drained;
  };
  try {
    const url = await Promise.race([listening, exited, timeout]);
    return { url, output: () => output, close };
  } catch (error) {
    await close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to completion; throws with its output when it fails. */
export async function run(command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  if (code !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${code}):\n${text}`);
  }
  return text;
}
