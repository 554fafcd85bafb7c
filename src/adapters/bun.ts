/**
 * Opening Deno KV on Bun through the `@deno/kv` npm client.
 *
 * @module
 */

/**
 * The options {@link bunKvOptions} holds: the `encodeV8` and `decodeV8`
 * functions that `openKv` of `@deno/kv` requires on Bun.
 */
export type BunKvOptions = {
  /** Refuses every value: tessera stores bytes, which need no serializer. */
  readonly encodeV8: (value: unknown) => Uint8Array;
  /** Refuses every value: tessera never reads V8-serialized values. */
  readonly decodeV8: (bytes: Uint8Array) => unknown;
};

/**
 * Options for `openKv` of the `@deno/kv` npm package that let it open a KV
 * file on Bun.
 *
 * On Bun, `openKv(path)` throws unless it is given `encodeV8` and `decodeV8`
 * functions, because Bun's own `v8.serialize` writes a format that Deno and
 * Node cannot read. tessera needs no serializer at all: it stores every
 * session as JSON bytes (`Uint8Array`), which KV keeps as raw bytes. These
 * options satisfy `openKv` and refuse, with a `TypeError` that says why, any
 * value that would need V8 serialization. The database stays readable by
 * Deno and Node, so one KV file can serve all three.
 *
 * The options work on Node too (where `@deno/kv` needs none) and are ignored
 * on Deno, whose native KV `@deno/kv` uses.
 *
 * @example Sessions in a KV file on Bun
 * ```ts ignore
 * import { openKv } from "@deno/kv";
 * import { getSession, kvStore, withSession } from "@tessera/session";
 * import { bunKvOptions } from "@tessera/session/bun";
 *
 * const store = kvStore(await openKv("sessions.db", bunKvOptions));
 *
 * Bun.serve({
 *   port: 8000,
 *   fetch: withSession((req) => {
 *     const visits = getSession<{ visits: number }>(req).update("visits", (n = 0) => n + 1);
 *     return new Response(`visit ${visits}`);
 *   }, { store }),
 * });
 * ```
 *
 * @example The options refuse values that are not bytes
 * ```ts
 * import { bunKvOptions } from "@tessera/session/bun";
 *
 * try {
 *   bunKvOptions.encodeV8({ not: "bytes" });
 * } catch (error) {
 *   console.log(error instanceof TypeError); // true
 * }
 * ```
 */
export const bunKvOptions: BunKvOptions = Object.freeze({
  encodeV8(value: unknown): Uint8Array {
    throw new TypeError(
      `This KV handle was opened with bunKvOptions, which store bytes only, and was given a ${
        describe(value)
      }: store a Uint8Array (e.g. new TextEncoder().encode(JSON.stringify(value))), or open another handle with a V8 serializer`,
    );
  },
  decodeV8(bytes: Uint8Array): unknown {
    throw new TypeError(
      `This KV handle was opened with bunKvOptions, which read bytes only, and found a V8-serialized value (${bytes.byteLength} bytes) written by other code: keep tessera's sessions under their own key prefix`,
    );
  },
});

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor
    ?.name;
  return typeof name === "string" && name !== "" ? name : "object";
}
