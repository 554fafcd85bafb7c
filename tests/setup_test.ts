// The one install command: on a machine without the programs the suites
// start (redis-server, PostgreSQL, Chromium, openssl), `npm run setup`
// installs them, and CI runs it before the tests.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Runs scripts/setup.sh in dry-run mode with only `programs` on PATH. */
async function wouldInstall(
  programs: string[],
  postgresVersions: string[],
): Promise<string> {
  const bin = await Deno.makeTempDir({ prefix: "tessera-setup-bin-" });
  const pg = await Deno.makeTempDir({ prefix: "tessera-setup-pg-" });
  try {
    // setup.sh itself needs dirname; every other program is the test's.
    await Deno.symlink("/usr/bin/dirname", `${bin}/dirname`);
    for (const program of programs) {
      await Deno.writeTextFile(`${bin}/${program}`, "#!/bin/sh\n", {
        mode: 0o755,
      });
    }
    for (const version of postgresVersions) {
      await Deno.mkdir(`${pg}/${version}/bin`, { recursive: true });
      for (const program of ["initdb", "postgres"]) {
        await Deno.writeTextFile(`${pg}/${version}/bin/${program}`, "", {
          mode: 0o755,
        });
      }
    }
    const { code, stdout, stderr } = await new Deno.Command("/bin/bash", {
      args: [new URL("scripts/setup.sh", ROOT).pathname],
      env: { PATH: bin, SETUP_DRY_RUN: "1", SETUP_PG_ROOT: pg },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return new TextDecoder().decode(stdout).trim();
  } finally {
    await Deno.remove(bin, { recursive: true });
    await Deno.remove(pg, { recursive: true });
  }
}

Deno.test("npm run setup installs redis-server, PostgreSQL, Chromium and openssl where they are missing", async (t) => {
  await t.step("a fresh machine: every package", async () => {
    assert.equal(
      await wouldInstall([], []),
      "setup: would install: chromium fonts-liberation openssl redis-server redis-tools postgresql",
    );
  });
  await t.step("only Redis missing: redis-server and redis-tools", async () => {
    assert.equal(
      await wouldInstall(["chromium", "openssl"], ["15"]),
      "setup: would install: redis-server redis-tools",
    );
  });
  await t.step("only PostgreSQL missing: postgresql", async () => {
    assert.equal(
      await wouldInstall(
        ["chromium", "openssl", "redis-server", "redis-cli"],
        [],
      ),
      "setup: would install: postgresql",
    );
  });
  await t.step("everything present: nothing", async () => {
    assert.equal(
      await wouldInstall(
        ["chromium", "openssl", "redis-server", "redis-cli"],
        ["15"],
      ),
      "setup: would install: nothing",
    );
  });
});

Deno.test("CI runs the setup command before the tests, and npm run setup is scripts/setup.sh", async () => {
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const commands = ci.split("\n").map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const setup = commands.indexOf("npm run setup");
  assert.ok(setup !== -1, ".ci/run runs npm run setup");
  assert.ok(setup < commands.indexOf("npm test"), "before npm test");
  const pkg = JSON.parse(
    await Deno.readTextFile(new URL("package.json", ROOT)),
  );
  assert.equal(pkg.scripts.setup, "bash scripts/setup.sh");
});
