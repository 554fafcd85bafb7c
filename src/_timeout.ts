// A deadline for one store call: remote clients may retry forever (Deno's
// remote KV client does, denoland/deno#21211), and a request must not hang.
//
// One timer per call would cost more than the call itself on a fast store
// (about 1.5 µs of timer bookkeeping, against ~20 ns to await an answered
// promise). Every call of one withSession has the same duration, so calls
// queue first-in, first-out in deadline order, and one timer, armed for the
// oldest pending call, serves them all.
import { SessionStoreError, SessionStoreTimeoutError } from "./errors.ts";

interface Pending {
  readonly deadline: number;
  readonly call: "read" | "commit";
  /** What could not be done, for the error of a call that fails. */
  readonly what: string;
  /** How the call fails; `undefined` once it has settled. Dropped then,
   * not kept: the queue keeps a settled call until the calls before it
   * settle, and its request must not live that long. */
  reject: ((error: unknown) => void) | undefined;
}

/** Settles `pending`: its `reject`, or `undefined` when it had settled. */
function settle(pending: Pending): ((error: unknown) => void) | undefined {
  const reject = pending.reject;
  pending.reject = undefined;
  return reject;
}

/** The calls waiting under one duration, oldest first, and its timer. */
class DeadlineQueue {
  readonly #ms: number;
  #items: Pending[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add<T, R>(
    promise: Promise<T>,
    call: "read" | "commit",
    what: string,
    then: ((value: T) => R) | undefined,
    otherwise: ((error: unknown) => R) | undefined,
  ): Promise<Awaited<R>> {
    return new Promise<R>((resolve, reject) => {
      const pending: Pending = {
        deadline: Date.now() + this.#ms,
        call,
        what,
        reject: otherwise === undefined ? reject : (error) => {
          try {
            resolve(otherwise(error));
          } catch (failure) {
            reject(failure);
          }
        },
      };
      this.#items.push(pending);
      if (this.#timer === undefined) this.#arm(pending.deadline);
      promise.then(
        (value) => {
          if (settle(pending) === undefined) return;
          this.#dropSettled();
          if (then === undefined) return resolve(value as unknown as R);
          try {
            resolve(then(value));
          } catch (error) {
            reject(error);
          }
        },
        (error) => {
          const fail = settle(pending);
          if (fail === undefined) return;
          this.#dropSettled();
          fail(storeFailure(error, pending.what));
        },
      );
    }) as Promise<Awaited<R>>;
  }

  /** Most calls answer in order: forget the settled ones at the front. */
  #dropSettled(): void {
    const items = this.#items;
    while (
      this.#head < items.length && items[this.#head]!.reject === undefined
    ) {
      this.#head++;
    }
    if (this.#head === items.length) {
      // The timer stays armed: the next call, usually soon, needs one, and
      // re-arming on every call is the cost this queue exists to avoid.
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(deadline: number): void {
    this.#armedFor = deadline;
    this.#timer = unref(
      setTimeout(() => this.#expire(), Math.max(0, deadline - Date.now())),
    );
  }

  #expire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = Date.now();
    const items = this.#items;
    while (this.#head < items.length) {
      const pending = items[this.#head]!;
      if (pending.reject !== undefined) {
        if (pending.deadline > now) break;
        settle(pending)!(new SessionStoreTimeoutError(pending.call, this.#ms));
      }
      this.#head++;
    }
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#armedFor === Infinity) {
      this.#arm(items[this.#head]!.deadline);
    }
  }
}

/**
 * Lets the process exit while only this timer is pending: a store call that
 * is really under way keeps the process alive through its own I/O.
 */
function unref(
  timer: ReturnType<typeof setTimeout>,
): ReturnType<typeof setTimeout> {
  const node = timer as unknown as { unref?: () => void };
  if (typeof node.unref === "function") node.unref();
  else {
    const deno = (globalThis as {
      Deno?: { unrefTimer?: (id: number) => void };
    }).Deno;
    deno?.unrefTimer?.(timer as unknown as number);
  }
  return timer;
}

const queues = new Map<number, DeadlineQueue>();

/** A failed store call as callers catch it: a timeout as it is, anything
 * else a {@link SessionStoreError} saying `what` could not be done. */
export function storeFailure(error: unknown, what: string): Error {
  return error instanceof SessionStoreTimeoutError
    ? error
    : new SessionStoreError(what, { cause: error });
}

/**
 * `call()` within `ms`: its value, a {@link SessionStoreTimeoutError} after
 * `ms`, or its failure (thrown at once or later) as {@link storeFailure}.
 * No async function around it: on a remote store every promise step of a
 * request costs, and on Bun each one measurably (about 2 µs per request on
 * `@deno/kv`). So the caller's next step is taken here too: the value
 * through `then` and the failure through `otherwise`, as
 * `bounded(…).then(then, otherwise)` would, one promise step sooner.
 */
export function bounded<T, R = T>(
  call: () => Promise<T>,
  ms: number,
  kind: "read" | "commit",
  what: string,
  then?: (value: T) => R,
  otherwise?: (error: unknown) => R,
): Promise<Awaited<R>> {
  let promise: Promise<T>;
  try {
    promise = call();
    // A store that breaks the contract and answers without a promise
    // fails like any store failure, not with a stray TypeError.
    if (typeof promise?.then !== "function") {
      throw new TypeError(
        `the store answered with ${String(promise)}, not a promise`,
      );
    }
  } catch (error) {
    const failure = storeFailure(error, what);
    if (otherwise === undefined) return Promise.reject(failure);
    try {
      return Promise.resolve(otherwise(failure)) as Promise<Awaited<R>>;
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  }
  let queue = queues.get(ms);
  if (queue === undefined) queues.set(ms, queue = new DeadlineQueue(ms));
  return queue.add(promise, kind, what, then, otherwise);
}
