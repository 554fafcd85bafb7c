// A store in this process can answer at once. Its promise-returning public
// API stays as it is; tessera's own request path calls this instead, so a
// request on such a store takes no promise step (each one an extra
// microtask and AsyncLocalStorage context switch) between its cookie and
// its handler, nor between its handler and its response.
import type {
  SessionStore,
  StoreCommit,
  StoreEntry,
  StoreKey,
} from "../store.ts";

/**
 * The synchronous side of a store. The values it is given and returns are
 * tessera's own: never changed after the call, so neither side copies them.
 * A call cannot hang (it returns before anything else runs), so it needs no
 * `storeTimeout`.
 */
export interface ImmediateStore {
  /** {@link SessionStore.get}, answered at once. */
  get(key: StoreKey): StoreEntry | null;
  /** {@link SessionStore.commit}, applied at once; throws what it would reject with. */
  commit(change: StoreCommit): string | null;
}

// Keyed by the store object itself: a wrapper (`{ ...store, get }`, or one
// that injects faults) is another object, and takes the public API it wraps.
const sides = new WeakMap<SessionStore, ImmediateStore>();

/** Gives `store` its synchronous side; returns `store`. */
export function withImmediate<S extends SessionStore>(
  store: S,
  side: ImmediateStore,
): S {
  sides.set(store, side);
  return store;
}

/** The synchronous side of `store`, when it has one. */
export function immediate(store: SessionStore): ImmediateStore | undefined {
  return sides.get(store);
}
