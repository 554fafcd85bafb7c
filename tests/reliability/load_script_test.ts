// The bounded load script, run as CI runs it (smaller): no lost update, no
// stale read, no failed request.
import assert from "node:assert/strict";
import { runDeno } from "../_helpers.ts";

Deno.test("load script: a bounded mixed run over HTTP loses no update and fails no request", async () => {
  const script = new URL("../../scripts/load.ts", import.meta.url).href;
  const { code, stdout, stderr } = await runDeno([
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
  ], 45_000);
  const out = stdout.trim();
  const report = JSON.parse(out.split("\n").at(-1) || "{}");
  console.log(`  ${out}`);
  assert.equal(report.requests, 1500, stderr);
  assert.equal(report.lostUpdates, 0);
  assert.equal(report.phantomIncrements, 0);
  assert.equal(report.staleReads, 0);
  assert.equal(report.errors, 0, JSON.stringify(report.errorKinds));
  assert.ok(report.conflictsRetried > 0, "the run did race");
  assert.equal(code, 0, stderr);
});
