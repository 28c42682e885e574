/**
 * A peer connection whose new data channels are handed to a channel worker: a Proxy that forwards
 * everything else to the connection. `channelsInWorker` builds one; the lanes a transfer opens in band
 * from such a connection are built the same way (src/transfer/laneSignal.ts), through the symbol below,
 * so that a transfer that does not use a worker does not load this code.
 */
import type { Listener, PeerConnectionLike } from '../types';

/** Marks a connection whose channels run in a worker; its value is that worker. */
export const CHANNEL_WORKER: unique symbol = Symbol.for('tallow-rx.channelWorker') as never;

/** What a connection needs of its channel worker. */
export interface ChannelAdopter {
  /** The page's stand-in for `channel`, now run by the worker, or `undefined` if it stays on the page. */
  adopt(channel: unknown): unknown;
  /** `pc` with its new channels handed to this worker. */
  wrap<T extends PeerConnectionLike>(pc: T): T;
}

/** The worker of a connection returned by `channelsInWorker`, if it is one. */
export const workerOf = (pc: unknown): ChannelAdopter | undefined => (pc as { [CHANNEL_WORKER]?: ChannelAdopter } | undefined)?.[CHANNEL_WORKER];

/**
 * True when `prop` is a method of `target`'s class (a function on the prototype chain, not an accessor): one
 * that must be called on the connection itself (native methods and `#private` fields need their `this`). A
 * handler read back (`onicecandidate`) or an own function is returned as it is.
 */
function isMethod(target: object, prop: PropertyKey): boolean {
  if (Object.prototype.hasOwnProperty.call(target, prop)) return false;
  for (let o: object | null = Object.getPrototypeOf(target); o; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, prop);
    if (d) return 'value' in d;
  }
  return false;
}

/** `pc` with its new channels handed to `host`. */
export function inWorker<T extends PeerConnectionLike>(pc: T, host: ChannelAdopter): T {
  const remote = new Set<Listener>();
  let ondatachannel: Listener | null = null;
  pc.addEventListener('datachannel', (event: { channel: unknown }) => {
    const channel = host.adopt(event.channel) ?? event.channel;
    const relayed = { type: 'datachannel', channel };
    for (const listener of [...remote]) listener(relayed);
    ondatachannel?.(relayed);
  });
  const forward = (method: 'addEventListener' | 'removeEventListener') => (pc[method] as (t: string, l: Listener, o?: unknown) => void).bind(pc);
  const add = forward('addEventListener');
  const remove = forward('removeEventListener');
  const own: Record<PropertyKey, unknown> = {
    [CHANNEL_WORKER]: host,
    createDataChannel: (label: string, init?: object) => {
      const channel = pc.createDataChannel(label, init);
      return host.adopt(channel) ?? channel;
    },
    addEventListener: (type: string, listener: Listener, options?: unknown) => (type === 'datachannel' ? void remote.add(listener) : add(type, listener, options)),
    removeEventListener: (type: string, listener: Listener, options?: unknown) => (type === 'datachannel' ? void remote.delete(listener) : remove(type, listener, options)),
  };
  return new Proxy(pc, {
    get(target, prop) {
      if (prop === 'ondatachannel') return ondatachannel;
      if (Object.prototype.hasOwnProperty.call(own, prop)) return own[prop];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' && isMethod(target, prop) ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set(target, prop, value) {
      if (prop !== 'ondatachannel') return Reflect.set(target, prop, value, target);
      ondatachannel = typeof value === 'function' ? (value as Listener) : null;
      return true;
    },
  });
}
