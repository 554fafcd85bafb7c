// A request's session values and the log of what the handler did to them,
// so the same operations can be replayed on a newer stored version after a
// conflict, and objects changed in place are noticed at save time.
import { assertJson } from "./_json.ts";
import type { SessionState } from "./_record.ts";

type Operation =
  | { readonly kind: "set"; readonly key: string; readonly value: unknown }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "clear" }
  | {
    readonly kind: "update";
    readonly key: string;
    readonly fn: (value: unknown) => unknown;
  }
  | { readonly kind: "flash"; readonly key: string; readonly value: unknown }
  | { readonly kind: "takeFlash"; readonly key: string }
  | { readonly kind: "csrf"; readonly value: string };

const NO_KEYS: readonly string[] = [];

interface Handed {
  readonly value: object;
  readonly json: string;
}

/** A state with nothing in it, created at `now`. */
export function emptyState(now: number): SessionState {
  return {
    data: new Map(),
    flash: new Map(),
    created: now,
    seen: now,
    issued: now,
    life: null,
    auth: null,
    user: null,
    csrf: null,
    meta: null,
    writes: "",
  };
}

/** Whether a state holds anything: an empty session is no session. */
export function worthStoring(state: SessionState): boolean {
  return state.data.size > 0 || state.flash.size > 0 || state.user !== null ||
    state.csrf !== null;
}

/** A deep copy of a JSON value. */
export function clone(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** The entries of `data` under `keys`. */
export function pick(
  data: ReadonlyMap<string, unknown>,
  keys: readonly string[],
): Map<string, unknown> {
  const kept = new Map<string, unknown>();
  for (const key of keys) if (data.has(key)) kept.set(key, data.get(key));
  return kept;
}

/**
 * The values of one request's session and the operations applied to them
 * since they were loaded or last saved.
 */
export class SessionValues {
  /** Until read or replaced: most requests load theirs or need none, and
   * a request's allocations are what its garbage collection costs. */
  #state: SessionState | undefined;
  /** Made on the first operation: most requests only read. */
  #ops: Operation[] | undefined;
  #handed: Map<string, Handed> | undefined;
  #forced = false;

  /** The current state, as the handler sees it. */
  get state(): SessionState {
    return this.#state ??= emptyState(0);
  }

  set state(state: SessionState) {
    this.#state = state;
  }

  /** Whether operations are waiting to be saved. */
  get pending(): boolean {
    return this.#ops !== undefined && this.#ops.length > 0;
  }

  /** Whether `markChanged()` forced a save. */
  get forced(): boolean {
    return this.#forced;
  }

  /** Forces the next save, and a full in-place comparison. */
  force(): void {
    this.#forced = true;
  }

  /** Reads a value, remembering objects handed out to the handler. */
  get(key: string): unknown {
    if (this.#state === undefined) return undefined; // nothing stored yet
    const value = this.#state.data.get(key);
    if (typeof value === "object" && value !== null) this.#hand(key, value);
    return value;
  }

  set(key: string, value: unknown): void {
    assertJson(value, key);
    this.state.data.set(key, value);
    this.#log({ kind: "set", key, value });
  }

  delete(key: string): boolean {
    if (!this.state.data.has(key)) return false;
    this.state.data.delete(key);
    this.#log({ kind: "delete", key });
    return true;
  }

  clear(): void {
    if (this.state.data.size === 0) return;
    this.state.data.clear();
    this.#log({ kind: "clear" });
  }

  update(key: string, fn: (current: unknown) => unknown): unknown {
    if (typeof fn !== "function") {
      throw new TypeError(
        `update("${key}") needs a function, got ${String(fn)}`,
      );
    }
    const value = fn(this.state.data.get(key));
    assertJson(value, key);
    this.state.data.set(key, value);
    this.#log({ kind: "update", key, fn });
    return value;
  }

  /** Records a new CSRF token as an operation to save. */
  csrf(value: string): void {
    this.#log({ kind: "csrf", value });
  }

  flash(key: string, value: unknown): void {
    assertJson(value, key);
    this.state.flash.set(key, value);
    this.#log({ kind: "flash", key, value });
  }

  takeFlash(key: string): unknown {
    if (!this.state.flash.has(key)) return undefined;
    const value = this.state.flash.get(key);
    this.state.flash.delete(key);
    this.#log({ kind: "takeFlash", key });
    return value;
  }

  /** Forgets the operations: they are stored. */
  done(): void {
    this.#ops = undefined;
    this.#handed = undefined;
    this.#forced = false;
  }

  /** Forgets everything: no session. */
  reset(): void {
    this.#state = undefined;
    this.done();
  }

  #log(op: Operation): void {
    (this.#ops ??= []).push(op);
  }

  #hand(key: string, value: object): void {
    this.#handed ??= new Map();
    if (!this.#handed.has(key)) {
      this.#handed.set(key, { value, json: JSON.stringify(value) });
    }
  }

  /** Keys whose handed-out object is still in place and now serialises differently. */
  changedInPlace(): readonly string[] {
    if (this.#handed === undefined) return NO_KEYS;
    const changed: string[] = [];
    for (const [key, handed] of this.#handed) {
      if (this.state.data.get(key) !== handed.value) continue;
      if (this.#forced || JSON.stringify(handed.value) !== handed.json) {
        assertJson(handed.value, key);
        changed.push(key);
      }
    }
    return changed;
  }

  /** Re-applies this request's operations on `base`, a newer stored version. */
  replay(base: SessionState, inPlace: readonly string[]): SessionState {
    for (const op of this.#ops ?? []) {
      switch (op.kind) {
        case "set":
          base.data.set(op.key, clone(op.value));
          break;
        case "delete":
          base.data.delete(op.key);
          break;
        case "clear":
          base.data.clear();
          break;
        case "update": {
          const value = op.fn(base.data.get(op.key));
          assertJson(value, op.key);
          base.data.set(op.key, value);
          break;
        }
        case "flash":
          base.flash.set(op.key, clone(op.value));
          break;
        case "takeFlash":
          base.flash.delete(op.key);
          break;
        case "csrf":
          // A token another request created meanwhile wins: its page may
          // already carry it.
          base.csrf ??= op.value;
          break;
      }
    }
    for (const key of inPlace) {
      base.data.set(key, clone(this.state.data.get(key)));
    }
    return base;
  }
}
