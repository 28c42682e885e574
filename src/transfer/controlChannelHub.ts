/**
 * Hands the `tallow-control` channels the peer opens on a connection to the receivers listening on it, one
 * channel to one receiver. A receiver that finds a channel is not its session's (a receiver resumed on new
 * connections, offered another session: two sessions shared the new connections) passes it on with the
 * messages it read, to the next receiver that has not passed it on, or keeps it parked until one listens.
 */
import { Observable, type Subscriber } from 'rxjs';
import { isGone } from '../operators/routeInternals';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import { closeAll, CONTROL_LABEL } from './transferChannels';

/** The most channels parked on one connection, waiting for a receiver; the oldest is closed past it. */
const MAX_PARKED = 16;

/** Control channels already taken by a `receiveFile` subscription. */
const claimed = new WeakSet<object>();
/** The messages a receiver read on a channel it passed on, for the next one to read first. */
const replays = new WeakMap<object, readonly unknown[]>();
/** The receivers (by token) that passed a channel on: it is not offered to them again. */
const declined = new WeakMap<object, Set<unknown>>();

/** One listener: its subscriber and the token it passes channels on with. */
interface Listener {
  readonly subscriber: Subscriber<DataChannelLike>;
  readonly token: unknown;
}

/** The one `datachannel` listener of a peer connection, its receivers in subscription order, and parked channels. */
interface ControlChannelHub {
  readonly listeners: Listener[];
  readonly parked: DataChannelLike[];
  readonly onChannel: (ev: { channel?: DataChannelLike }) => void;
}
/** Hubs per peer connection, while a receiver listens or a channel is parked. */
const hubs = new WeakMap<object, ControlChannelHub>();

/** Gives `ch` to the earliest listener that has not passed it on, or parks it. */
function dispatch(hub: ControlChannelHub, ch: DataChannelLike): void {
  const no = declined.get(ch);
  const taker = hub.listeners.find((l) => !l.subscriber.closed && !no?.has(l.token));
  if (taker) return taker.subscriber.next(ch);
  hub.parked.push(ch);
  if (hub.parked.length > MAX_PARKED) closeAll([hub.parked.shift()]);
}

const hubOf = (pc: PeerConnectionLike): ControlChannelHub => {
  const known = hubs.get(pc);
  if (known) return known;
  const hub: ControlChannelHub = {
    listeners: [],
    parked: [],
    onChannel: (ev) => {
      const ch = ev?.channel;
      if (!ch || ch.label !== CONTROL_LABEL || claimed.has(ch)) return;
      if (!hub.listeners.some((l) => !l.subscriber.closed)) return;
      claimed.add(ch);
      ch.binaryType = 'arraybuffer';
      dispatch(hub, ch);
    },
  };
  hubs.set(pc, hub);
  pc.addEventListener('datachannel', hub.onChannel);
  return hub;
};

/** Drops the hub (and its `datachannel` listener) once nobody listens and nothing open is parked. */
function release(pc: PeerConnectionLike, hub: ControlChannelHub): void {
  const open = hub.parked.filter((ch) => !isGone(ch));
  hub.parked.splice(0, hub.parked.length, ...open);
  if (hub.listeners.length || hub.parked.length || hubs.get(pc) !== hub) return;
  hubs.delete(pc);
  pc.removeEventListener('datachannel', hub.onChannel);
}

/**
 * Emits each new `tallow-control` channel the peer opens on `pc`, once: a channel claimed by one subscriber is
 * never handed to another, unless it passes it on ({@link passOnControlChannel}; never back to the same
 * `token`). While several subscribers listen, the earliest one still subscribed takes each channel; a parked
 * channel goes to the next one that subscribes. All subscriptions on one `pc` share a single `datachannel`
 * listener (so many `receiveFile`s on one connection stay under Node's MaxListeners limit).
 */
export function incomingControlChannels(pc: PeerConnectionLike, token: unknown = {}): Observable<DataChannelLike> {
  return new Observable<DataChannelLike>((subscriber) => {
    const hub = hubOf(pc);
    const listener = { subscriber, token };
    hub.listeners.push(listener);
    // A channel parked for a receiver: the first this one has not passed on.
    const i = hub.parked.findIndex((ch) => !isGone(ch) && !declined.get(ch)?.has(token));
    if (i >= 0) subscriber.next(hub.parked.splice(i, 1)[0]);
    return () => {
      const at = hub.listeners.indexOf(listener);
      if (at >= 0) hub.listeners.splice(at, 1);
      release(pc, hub);
    };
  });
}

/**
 * A receiver (`token`) gives back a channel it took that carries another session: with the messages it read
 * (`replay`, read first by the next taker), to the next receiver listening on `pc`, or parked until one does.
 */
export function passOnControlChannel(pc: PeerConnectionLike, ch: DataChannelLike, replay: readonly unknown[], token: unknown): void {
  let no = declined.get(ch);
  if (!no) declined.set(ch, (no = new Set()));
  no.add(token);
  replays.set(ch, replay);
  dispatch(hubOf(pc), ch);
}

/** The messages a receiver read on `ch` before passing it on (none for a fresh channel); taken once. */
export function replayOf(ch: DataChannelLike): readonly unknown[] {
  const r = replays.get(ch) ?? [];
  replays.delete(ch);
  return r;
}
