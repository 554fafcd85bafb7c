// tessera's own side of a store. The public API speaks bytes (what any
// store can hold); a store written here also gives tessera's request path
// a side that takes a record as the text it is encoded from, so the text
// is not turned into bytes only for the store to turn it back (Redis'
// values are strings) or to keep (memory: a string is immutable, so it
// needs no defensive copy either). A store in this process answers that
// side at once: a request on it takes no promise step (each one an extra
// microtask and AsyncLocalStorage context switch) between its cookie and
// its handler, nor between its handler and its response.
import type {
  SessionStore,
  StoreCommit,
  StoreEntry,
  StoreKey,
  StoreSet,
} from "../store.ts";

/** A value on tessera's side: bytes, or text that stands for its UTF-8
 * bytes (a store's public API hands those bytes out). */
export type SideValue = Uint8Array | string;

/** {@link StoreEntry}, with a {@link SideValue}. */
export type SideEntry = Omit<StoreEntry, "value"> & {
  readonly value: SideValue;
};

/** {@link StoreSet}, with a {@link SideValue}. */
export type SideSet = Omit<StoreSet, "value"> & { readonly value: SideValue };

/** {@link StoreCommit}, with {@link SideValue}s. */
export type SideCommit = Omit<StoreCommit, "sets"> & {
  readonly sets: readonly SideSet[];
};

/**
 * The synchronous side of a store. The values it is given and returns are
 * tessera's own: never changed after the call, so neither side copies them.
 * A call cannot hang (it returns before anything else runs), so it needs no
 * `storeTimeout`.
 */
export interface ImmediateSide {
  /** {@link SessionStore.get}, answered at once. */
  get(key: StoreKey): SideEntry | null;
  /** {@link SessionStore.commit}, applied at once; throws what it would reject with. */
  commit(change: SideCommit): string | null;
}

/** The asynchronous side of a remote store. */
export interface TextSide {
  /** {@link SessionStore.get}. */
  get(key: StoreKey): Promise<SideEntry | null>;
  /** {@link SessionStore.commit}. */
  commit(change: SideCommit): Promise<string | null>;
}

// Keyed by the store object itself: a wrapper (`{ ...store, get }`, or one
// that injects faults) is another object, and takes the public API it wraps.
const immediateSides = new WeakMap<SessionStore, ImmediateSide>();
const textSides = new WeakMap<SessionStore, TextSide>();

/** Gives `store` its sides (synchronous, or asynchronous taking text);
 * returns `store`. */
export function withSides<S extends SessionStore>(
  store: S,
  sides: { immediate?: ImmediateSide; text?: TextSide },
): S {
  if (sides.immediate !== undefined) immediateSides.set(store, sides.immediate);
  if (sides.text !== undefined) textSides.set(store, sides.text);
  return store;
}

/** The synchronous side of `store`, when it has one. */
export const immediate = (store: SessionStore): ImmediateSide | undefined =>
  immediateSides.get(store);

/** The asynchronous side of `store`, when it has one. */
export const textSide = (store: SessionStore): TextSide | undefined =>
  textSides.get(store);

/** Whether tessera may hand `store` records as text. */
export function takesText(store: SessionStore): boolean {
  return immediateSides.has(store) || textSides.has(store);
}

const encoder = new TextEncoder();

/** The bytes a value stands for (a copy is the caller's business). */
export function valueBytes(value: SideValue): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/**
 * The UTF-8 size of `value` when it is over `max` bytes, else `undefined`.
 * A UTF-16 code unit is at most 3 UTF-8 bytes, so the common short text is
 * not measured at all.
 */
export function oversize(value: SideValue, max: number): number | undefined {
  if (typeof value !== "string") {
    return value.byteLength > max ? value.byteLength : undefined;
  }
  if (value.length * 3 <= max) return undefined;
  const bytes = encoder.encode(value).byteLength;
  return bytes > max ? bytes : undefined;
}
