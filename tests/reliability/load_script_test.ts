// The bounded load script, run as CI runs it (smaller): no lost update, no
// stale read, no failed request.
import assert from "node:assert/strict";

Deno.test("load script: a bounded mixed run over HTTP loses no update and fails no request", async () => {
  const script = new URL("../../scripts/load.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-net=127.0.0.1",
      "--allow-run",
      "--allow-env",
      script,
      "--requests=1500",
      "--clients=48",
      "--sessions=6",
      "--seconds=30",
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 45_000);
  try {
    const { code, stdout, stderr } = await child.output();
    const out = new TextDecoder().decode(stdout).trim();
    const err = new TextDecoder().decode(stderr);
    const report = JSON.parse(out.split("\n").at(-1) || "{}");
    console.log(`  ${out}`);
    assert.equal(report.requests, 1500, err);
    assert.equal(report.lostUpdates, 0);
    assert.equal(report.phantomIncrements, 0);
    assert.equal(report.staleReads, 0);
    assert.equal(report.errors, 0, JSON.stringify(report.errorKinds));
    assert.ok(report.conflictsRetried > 0, "the run did race");
    assert.equal(code, 0, err);
  } finally {
    clearTimeout(killer);
  }
});
