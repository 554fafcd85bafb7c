// The order of store keys: part by part, a prefix first, as Deno KV lists
// string keys. The memory and Redis stores sort `list()` results by it.
import type { StoreKey } from "../store.ts";

/** Negative, zero or positive as key `a` sorts before, with or after `b`. */
export function compareKeys(a: StoreKey, b: StoreKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return a.length - b.length;
}
