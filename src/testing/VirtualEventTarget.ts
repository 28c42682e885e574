/**
 * The event plumbing shared by `VirtualDataChannel` and `VirtualPeer`: DOM-style
 * listeners plus `on<type>` handler properties.
 */
import type { Listener } from '../types';

/** A listener: a function, or an object with `handleEvent` (as the DOM allows). */
export type VirtualListener = Listener | { handleEvent(event: any): void };

/** The minimal event object the virtual classes dispatch. */
export interface VirtualEvent {
  readonly type: string;
  readonly target?: unknown;
  readonly [key: string]: unknown;
}

/**
 * Reports a listener's exception the way a browser does: asynchronously, as an
 * uncaught error, without stopping the other listeners or the link.
 */
const reportListenerError = (error: unknown): void => {
  setTimeout(() => {
    throw error;
  }, 0);
};

/**
 * A small `EventTarget` look-alike. `dispatch` first calls the `on<type>`
 * property (if it holds a function), then every listener in the order added.
 * Adding the same listener twice for one type has no effect, as in the DOM.
 * A listener that throws does not stop the others; its error is rethrown
 * asynchronously (an uncaught exception, as a browser reports it).
 */
export class VirtualEventTarget {
  /** Listeners by event type, in insertion order. */
  readonly #listeners = new Map<string, VirtualListener[]>();

  /** Adds `listener` for events of `type` (ignored if already added or not callable). */
  addEventListener(type: string, listener: VirtualListener | null | undefined): void {
    if (!listener) return;
    const list = this.#listeners.get(type);
    if (!list) this.#listeners.set(type, [listener]);
    else if (!list.includes(listener)) list.push(listener);
  }

  /** Removes `listener` for events of `type`, if present. */
  removeEventListener(type: string, listener: VirtualListener | null | undefined): void {
    const list = this.#listeners.get(type);
    if (!list || !listener) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.#listeners.delete(type);
  }

  /** Dispatches `event` to the `on<type>` handler, then to the listeners (a copy of the list). */
  protected dispatch(event: VirtualEvent): void {
    const handler = (this as any)[`on${event.type}`];
    if (typeof handler === 'function') call(this, handler, event);
    const list = this.#listeners.get(event.type);
    if (!list) return;
    for (const listener of [...list]) {
      if (typeof listener === 'function') call(this, listener, event);
      else if (listener && typeof listener.handleEvent === 'function') call(listener, listener.handleEvent, event);
    }
  }
}

/** Calls one listener, reporting (not propagating) what it throws. */
const call = (self: unknown, fn: (event: any) => void, event: VirtualEvent): void => {
  try {
    fn.call(self, event);
  } catch (error) {
    reportListenerError(error);
  }
};
