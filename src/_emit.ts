// Sending lifecycle events to the app's `onEvent` listener: stamped with the
// request's method and path (never its cookies), and fenced so that a
// listener that throws or stalls cannot break or slow the request.
import type { SessionEvent, SessionEventListener } from "./events.ts";

/** An event as the code raising it knows it, before time and request. */
export type EventBody<E = SessionEvent> = E extends unknown
  ? Omit<E, "time" | "method" | "path">
  : never;

/** Listeners whose first failure was reported: each is reported once. */
const reported = new WeakSet<SessionEventListener>();

/**
 * Where one request's (or one account call's) events go. It keeps the
 * request's method and URL, never the request: the request's session is
 * reachable from a WeakMap keyed by the request, and a value that refers
 * back to its own key makes every garbage collection work through the
 * cycle (measured: 2.4 µs more per anonymous request, 3.4 per read; bench
 * "withSession with an onEvent listener" in bench/request_bench.ts).
 */
export class Emitter {
  readonly #listener: SessionEventListener | null;
  readonly #method: string | null;
  readonly #url: string | null;

  constructor(listener: SessionEventListener | null, request?: Request) {
    this.#listener = listener;
    this.#method = request?.method ?? null;
    this.#url = request?.url ?? null;
  }

  emit(body: EventBody): void {
    const listener = this.#listener;
    if (listener === null) return;
    const event = {
      ...body,
      time: Date.now(),
      method: this.#method,
      path: this.#url === null ? null : pathOf(this.#url),
    } as SessionEvent;
    try {
      const result = listener(event);
      if (result instanceof Promise) {
        result.catch((error) => failed(listener, error));
      }
    } catch (error) {
      failed(listener, error);
    }
  }
}

/** Events of no one: what requests use when `onEvent` is not set. */
export const SILENT: Emitter = new Emitter(null);

function failed(listener: SessionEventListener, error: unknown): void {
  if (reported.has(listener)) return;
  reported.add(listener);
  console.error(
    "tessera: the onEvent listener threw (reported once; the request went on):",
    error,
  );
}

function pathOf(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}
