// The JavaScript SHA-256 behind token ids agrees with node:crypto.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256Ascii } from "../src/_sha256.ts";

Deno.test("sha256Ascii() matches node:crypto for every length across block boundaries", () => {
  let text = "";
  for (let length = 0; length <= 200; length++) {
    assert.equal(
      sha256Ascii(text),
      createHash("sha256").update(text).digest("base64url"),
      `length ${length}`,
    );
    text += String.fromCharCode(32 + ((length * 7) % 95));
  }
});

Deno.test("sha256Ascii() gives the FIPS 180-4 digest of 'abc'", () => {
  // ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  assert.equal(
    sha256Ascii("abc"),
    "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
  );
});

Deno.test("sha256Ascii() declines non-ASCII text", () => {
  assert.equal(sha256Ascii("café"), undefined);
});
