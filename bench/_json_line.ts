// Runs a benchmark helper process and reads the JSON line it prints last.

/**
 * Runs `cmd` in `cwd` and parses the last line of its output as JSON;
 * `undefined` when the process fails (its stderr goes to ours).
 */
export async function jsonLine(
  cmd: string[],
  cwd: string,
): Promise<unknown> {
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) return undefined;
  const text = new TextDecoder().decode(out.stdout).trim();
  return JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
}
