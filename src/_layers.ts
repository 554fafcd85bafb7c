// The sessions of one request, one per withSession layer (a site session and
// an admin session under different cookie names), reachable by the request
// and through AsyncLocalStorage. The innermost layer answers lookups that
// name no cookie, as a single layer always did.
import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestSession } from "./_request_session.ts";

/** One layer's session on top of the layers around it. */
export class Layers {
  readonly session: RequestSession;
  readonly name: string;
  readonly outer: Layers | undefined;

  constructor(session: RequestSession, name: string, outer?: Layers) {
    this.session = session;
    this.name = name;
    this.outer = outer;
  }

  /** The innermost layer's session, or the one named `name`. */
  find(name?: string): RequestSession | undefined {
    // A loop, not findWhere(): no closure on every getSession().
    if (name === undefined || this.name === name) return this.session;
    for (let layer = this.outer; layer !== undefined; layer = layer.outer) {
      if (layer.name === name) return layer.session;
    }
    return undefined;
  }

  /** The innermost session that `accept` takes. */
  findWhere(
    accept: (session: RequestSession, layer: Layers) => boolean,
  ): RequestSession | undefined {
    if (accept(this.session, this)) return this.session;
    for (let layer = this.outer; layer !== undefined; layer = layer.outer) {
      if (accept(layer.session, layer)) return layer.session;
    }
    return undefined;
  }

  /** The cookie names of every layer, innermost first. */
  names(): string[] {
    const names = [this.name];
    for (let layer = this.outer; layer !== undefined; layer = layer.outer) {
      names.push(layer.name);
    }
    return names;
  }
}

/** Each request's layers, innermost on top. */
export const requestLayers: WeakMap<Request, Layers> = new WeakMap();
/** The layers of the handler running now. */
export const currentLayers: AsyncLocalStorage<Layers> = new AsyncLocalStorage();
