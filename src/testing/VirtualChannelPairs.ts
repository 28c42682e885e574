/**
 * The channel pairs of a virtual link and their lives: stream ids, opening,
 * closing and the two endpoints' event plumbing. Internal to `createVirtualLink`.
 */
import { InvalidConfigError } from '../errors';
import { domException } from './domException';
import { VirtualDataChannel, type VirtualChannelControl, type VirtualChannelInit } from './VirtualDataChannel';
import type { ResolvedVirtualLinkConfig } from './VirtualLinkConfig';
import { VirtualPeer, type VirtualDataChannelInit, type VirtualPeerControl, type VirtualSide } from './VirtualPeer';
import type { VirtualDirection } from './VirtualDirection';
import type { VirtualGate } from './VirtualGate';
import type { VirtualFlow } from './VirtualPipe';

/** Both ends of one channel, with the two directions between them. */
interface Pair {
  /** The end created first, at endpoint `from`. */
  readonly local: VirtualChannelControl;
  /** The far end. A negotiated channel has none until the far endpoint creates the same id. */
  remote: VirtualChannelControl | undefined;
  /** The endpoint where `local` lives. */
  readonly from: VirtualSide;
  /** The stream id, the same at both ends. */
  readonly id: number;
  /** `local` → `remote` (no receiver while `remote` is missing), and back (missing with `remote`). */
  readonly forward: VirtualFlow;
  backward: VirtualFlow | undefined;
  /** The ends that fired `open` (an end closed earlier never opens). */
  readonly opened: Set<VirtualChannelControl>;
  closing: boolean;
  /** Set by `channel.close()` while the closing end's reliable messages on the wire still arrive. */
  closeRequested?: boolean;
}

/** The validated options of one channel end. */
interface EndOptions {
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  readonly protocol: string;
}

/** The highest stream id a browser accepts (65535 is reserved). */
const MAX_STREAM_ID = 65_534;

const other = (side: VirtualSide): VirtualSide => (side === 'a' ? 'b' : 'a');

const checkInit = (init: VirtualChannelInit): EndOptions => {
  const ordered = init.ordered ?? true;
  const maxRetransmits = init.maxRetransmits ?? null;
  const protocol = init.protocol ?? '';
  if (typeof ordered !== 'boolean') throw new InvalidConfigError(`channel ordered must be a boolean, got ${String(ordered)}`, { ordered });
  if (maxRetransmits !== null && !(Number.isInteger(maxRetransmits) && maxRetransmits >= 0 && maxRetransmits <= 65_535)) {
    throw new InvalidConfigError(`channel maxRetransmits must be null or an integer in [0, 65535], got ${String(maxRetransmits)}`, {
      maxRetransmits,
    });
  }
  return { ordered, maxRetransmits, protocol: String(protocol) };
};

/** The id of a negotiated channel: required, an integer in [0, 65534]. */
const checkId = (id: unknown): number => {
  if (id === undefined || id === null) throw new InvalidConfigError('a negotiated channel needs an id', { id });
  if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= MAX_STREAM_ID)) {
    throw new InvalidConfigError(`channel id must be an integer in [0, ${MAX_STREAM_ID}], got ${String(id)}`, { id });
  }
  return id;
};

/** A channel is unreliable with `maxRetransmits: 0`, or unordered with `maxRetransmits` set. */
const isUnreliable = ({ ordered, maxRetransmits }: EndOptions): boolean => maxRetransmits === 0 || (!ordered && maxRetransmits !== null);

/** One direction, with the sender's options (each end's options rule what it sends, as in SCTP). */
const flowOf = (sender: VirtualChannelControl, receiver: VirtualChannelControl | undefined, options: EndOptions): VirtualFlow => ({
  sender,
  receiver,
  ordered: options.ordered,
  unreliable: isUnreliable(options),
  lastDeliverAt: -Infinity,
  closed: false,
});

/** Where an end of `pair` lives. */
const sideOf = (pair: Pair, end: VirtualChannelControl): VirtualSide => (end === pair.local ? pair.from : other(pair.from));

/**
 * The channel pairs of one virtual link, between its endpoints `a` and `b`:
 * creates them (in-band or negotiated), opens them after `openDelayMs` and
 * closes them, one at a time or all at once.
 */
export class VirtualChannelPairs {
  /** Endpoint `a`. */
  readonly a: VirtualPeer;
  /** Endpoint `b`. */
  readonly b: VirtualPeer;
  /** The link's configuration, read at use (`reconfigure` changes it in place). */
  readonly #config: ResolvedVirtualLinkConfig;
  /** One direction per sending endpoint: `pipes.a` carries a → b. */
  readonly #pipes: Record<VirtualSide, VirtualDirection>;
  /** Channels open only once this gate is open; none: at once. */
  readonly #gate: VirtualGate | undefined;
  // Pairs not yet closing (negotiated halves included).
  readonly #live = new Set<Pair>();
  // Pairs with both ends created so far.
  #created = 0;
  // The next in-band stream id to try, per endpoint: even at `a`, odd at `b`.
  readonly #nextId: Record<VirtualSide, number> = { a: 0, b: 1 };
  // Stream ids of the channels not yet closed, per endpoint.
  readonly #inUse: Record<VirtualSide, Set<number>> = { a: new Set(), b: new Set() };
  // Negotiated halves waiting for the far endpoint to create their id, by endpoint and id.
  readonly #waiting: Record<VirtualSide, Map<number, Pair>> = { a: new Map(), b: new Map() };
  // Set by close() and fail().
  #closed = false;
  // The endpoints' event plumbing.
  readonly #peerControls = {} as Record<VirtualSide, VirtualPeerControl>;

  /** Creates endpoints `a` and `b`, with no channel yet. */
  constructor(config: ResolvedVirtualLinkConfig, pipes: Record<VirtualSide, VirtualDirection>, gate?: VirtualGate) {
    this.#config = config;
    this.#pipes = pipes;
    this.#gate = gate;
    this.a = this.#peer('a');
    this.b = this.#peer('b');
  }

  /** True once `closeAll()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Pairs with both ends created so far. */
  get created(): number {
    return this.#created;
  }

  /** Creates one in-band pair from `from`, opening after `openDelayMs`; returns `[from's end, far end]`. */
  createOne(from: VirtualSide, label: string, init?: VirtualChannelInit): [VirtualDataChannel, VirtualDataChannel] {
    const pair = this.#createPair(from, label, init);
    this.#openLater([pair]);
    return [pair.local.channel, pair.remote!.channel];
  }

  /** Creates one in-band pair from `a` per label, all opening together; `init` is checked before any is created. */
  createBatch(labels: readonly string[], init: VirtualChannelInit): [local: VirtualDataChannel[], remote: VirtualDataChannel[]] {
    checkInit(init); // fail before creating any pair
    const pairs = labels.map((label) => this.#createPair('a', label, init));
    this.#openLater(pairs);
    return [pairs.map((p) => p.local.channel), pairs.map((p) => p.remote!.channel)];
  }

  /** Closes every live pair on the next tick, optionally with an `error` first. */
  closeAll(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    const pairs = [...this.#live];
    for (const pair of pairs) this.#startClosing(pair);
    this.#config.scheduler.schedule(() => {
      for (const pair of pairs) this.#finishClosing(pair, pair.from === 'a' || !pair.remote ? pair.local : pair.remote, error ?? 'link');
      this.#pipes.a.dispose();
      this.#pipes.b.dispose();
      for (const side of ['a', 'b'] as const) this.#peerControls[side].dispatch({ type: 'connectionstatechange' });
    }, 0);
  }

  /** Creates endpoint `side`, wired to this link. */
  #peer(side: VirtualSide): VirtualPeer {
    const pipes = this.#pipes;
    return new VirtualPeer(side, (control) => {
      this.#peerControls[side] = control;
      return {
        maxMessageSize: this.#config.maxMessageSize,
        roundTripMs: () => pipes.a.roundTripMs?.() ?? 2 * this.#config.delayMs,
        traffic: () => (side === 'a' ? { sent: pipes.a.stats.bytesDelivered, received: pipes.b.stats.bytesDelivered } : { sent: pipes.b.stats.bytesDelivered, received: pipes.a.stats.bytesDelivered }),
        createDataChannel: (label, init = {}) => (init.negotiated ? this.#createNegotiated(side, label, init) : this.createOne(side, label, init)[0]),
        isClosed: () => this.#closed,
        close: () => this.closeAll(),
      };
    });
  }

  /** Schedules `fn` after `openDelayMs`, counted from when the gate opens (a network lane's connection). */
  #afterOpenDelay(fn: () => void): void {
    const start = () => void this.#config.scheduler.schedule(fn, this.#config.openDelayMs);
    if (this.#gate) this.#gate.whenOpen(start);
    else start();
  }

  /** Marks a pair as closing: both ends `closing`, undelivered messages discarded. */
  #startClosing(pair: Pair): void {
    pair.closing = true;
    this.#live.delete(pair);
    if (this.#waiting[pair.from].get(pair.id) === pair) this.#waiting[pair.from].delete(pair.id);
    pair.forward.closed = true;
    this.#pipes[pair.from].discard(pair.forward);
    if (pair.backward) {
      pair.backward.closed = true;
      this.#pipes[other(pair.from)].discard(pair.backward);
    }
    pair.local.setState('closing');
    pair.remote?.setState('closing');
  }

  /**
   * Finishes closing: both ends `closed` (their ids free again), then `close` on
   * `first` and on the far end. A channel close first fires `closing` at the far
   * end; a link failure fires `error` on every end that was open.
   */
  #finishClosing(pair: Pair, first: VirtualChannelControl, cause: 'channel' | 'link' | Error): void {
    const second = first === pair.local ? pair.remote : pair.local;
    if (second && pair.opened.has(second) && cause === 'channel') second.dispatch({ type: 'closing', target: second.channel });
    if (cause instanceof Error) {
      for (const end of [first, second]) if (end && pair.opened.has(end)) end.dispatch({ type: 'error', error: cause, target: end.channel });
    }
    for (const end of [first, second]) {
      if (!end) continue;
      end.setState('closed');
      this.#inUse[sideOf(pair, end)].delete(pair.id);
    }
    first.dispatch({ type: 'close', target: first.channel });
    second?.dispatch({ type: 'close', target: second.channel });
  }

  /**
   * `channel.close()` from one end: the stream reset reaches the far end one `delayMs` later, and, on a
   * reliable channel, not before the messages this end already put on the wire (as SCTP resets a stream
   * only after its outstanding data; messages still in the send buffer are discarded).
   */
  #closePair(pair: Pair, initiator: VirtualChannelControl): void {
    if (pair.closing || pair.closeRequested) return;
    const { scheduler } = this.#config;
    const [out, pipe] = initiator === pair.local ? [pair.forward, this.#pipes[pair.from]] : [pair.backward, this.#pipes[other(pair.from)]];
    // Messages still on the wire (also those already due but not yet delivered, when the scheduler runs late).
    const wait = out && !out.unreliable ? pipe.lastArrival(out) - scheduler.now() : -Infinity;
    if (wait === -Infinity) {
      this.#startClosing(pair);
      scheduler.schedule(() => this.#finishClosing(pair, initiator, 'channel'), this.#config.delayMs);
      return;
    }
    pair.closeRequested = true;
    initiator.setState('closing');
    pipe.discardQueued(out!);
    scheduler.schedule(() => {
      if (pair.closing) return; // the whole link closed meanwhile
      this.#startClosing(pair);
      this.#finishClosing(pair, initiator, 'channel');
    }, Math.max(this.#config.delayMs, wait + 1, 1));
  }

  /**
   * Opens in-band `pairs` together after `openDelayMs`: every channel is `open`
   * before the first event fires, so an `open` listener may use any channel of
   * the batch. The far endpoint announces each with `datachannel` first.
   */
  #openLater(pairs: Pair[]): void {
    this.#afterOpenDelay(() => {
      const ready = pairs.filter((pair) => !pair.closing);
      for (const pair of ready) {
        pair.opened.add(pair.local).add(pair.remote!);
        pair.local.setState('open');
        pair.remote!.setState('open');
      }
      for (const pair of ready) {
        // A listener may have closed a pair of the batch already.
        if (!pair.closing) this.#peerControls[other(pair.from)].dispatch({ type: 'datachannel', channel: pair.remote!.channel });
        if (!pair.closing) pair.local.dispatch({ type: 'open', target: pair.local.channel });
        if (!pair.closing) pair.remote!.dispatch({ type: 'open', target: pair.remote!.channel });
      }
    });
  }

  /**
   * Opens one end of a negotiated pair after `openDelayMs`, whether or not the far
   * end exists (the transport is up, as in Chromium), without `datachannel`;
   * then delivers what arrived for it while it was connecting.
   */
  #openEndLater(pair: Pair, end: VirtualChannelControl): void {
    this.#afterOpenDelay(() => {
      if (pair.closing) return;
      pair.opened.add(end);
      end.setState('open');
      end.dispatch({ type: 'open', target: end.channel });
      const incoming = end === pair.local ? pair.backward : pair.forward;
      if (incoming) this.#pipes[other(sideOf(pair, end))].release(incoming);
    });
  }

  /** Creates one end of `pair()`; `outgoing()` names the pipe and flow its sends take, looked up at send time. */
  #createEnd(label: string, id: number, options: EndOptions, negotiated: boolean, pair: () => Pair, outgoing: () => [VirtualDirection, VirtualFlow]): VirtualChannelControl {
    let control!: VirtualChannelControl;
    new VirtualDataChannel({
      label: String(label),
      id,
      negotiated,
      ...options,
      connect: (c) => {
        control = c;
        return {
          maxMessageSize: this.#config.maxMessageSize,
          sendQueueLimit: this.#config.sendQueueLimit,
          // Only used after `open`, once the pair exists.
          transmit: (data, size) => {
            const [pipe, flow] = outgoing();
            pipe.enqueue(flow, data, size);
          },
          close: () => this.#closePair(pair(), control),
        };
      },
    });
    return control;
  }

  /**
   * The lowest in-band id of `from`'s parity (even at `a`, odd at `b`, as the DTLS client and server pick them in
   * real stacks) from its next one on that no channel at either endpoint uses.
   */
  #allocateId(from: VirtualSide): number {
    let id = this.#nextId[from];
    while (this.#inUse.a.has(id) || this.#inUse.b.has(id)) id += 2;
    this.#nextId[from] = id + 2;
    return id;
  }

  /** Creates one in-band pair (not yet scheduled to open). */
  #createPair(from: VirtualSide, label: string, init: VirtualChannelInit = {}): Pair {
    if (this.#closed) throw domException('The virtual link is closed', 'InvalidStateError');
    const options = checkInit(init);
    const id = this.#allocateId(from);
    const pipes = this.#pipes;
    // The closures read `pair`, declared below, only once the channels are used.
    const local = this.#createEnd(label, id, options, false, () => pair, () => [pipes[from], pair.forward]);
    const remote = this.#createEnd(label, id, options, false, () => pair, () => [pipes[other(from)], pair.backward!]);
    const pair: Pair = {
      local,
      remote,
      from,
      id,
      forward: flowOf(local, remote, options),
      backward: flowOf(remote, local, options),
      opened: new Set(),
      closing: false,
    };
    this.#live.add(pair);
    this.#created++;
    this.#inUse.a.add(id);
    this.#inUse.b.add(id);
    this.#peerControls[from].adopt(local.channel);
    this.#peerControls[other(from)].adopt(remote.channel);
    return pair;
  }

  /**
   * Creates the end of negotiated channel `init.id` at `side`: it completes the
   * far endpoint's waiting half with that id, or waits for one itself. Either
   * way it opens after `openDelayMs` and no `datachannel` fires.
   */
  #createNegotiated(side: VirtualSide, label: string, init: VirtualDataChannelInit): VirtualDataChannel {
    if (this.#closed) throw domException('The virtual link is closed', 'InvalidStateError');
    const options = checkInit(init);
    const id = checkId(init.id);
    if (this.#inUse[side].has(id)) throw domException(`Data channel id ${id} is already in use at endpoint ${side}`, 'OperationError');
    this.#inUse[side].add(id);
    const pipes = this.#pipes;
    const half = this.#waiting[other(side)].get(id);
    if (half) {
      this.#waiting[other(side)].delete(id);
      const remote = this.#createEnd(label, id, options, true, () => half, () => [pipes[side], half.backward!]);
      half.remote = remote;
      half.backward = flowOf(remote, half.local, options);
      half.forward.receiver = remote;
      this.#created++;
      this.#peerControls[side].adopt(remote.channel);
      this.#openEndLater(half, remote);
      return remote.channel;
    }
    const local = this.#createEnd(label, id, options, true, () => pair, () => [pipes[side], pair.forward]);
    const pair: Pair = { local, remote: undefined, from: side, id, forward: flowOf(local, undefined, options), backward: undefined, opened: new Set(), closing: false };
    this.#live.add(pair);
    this.#waiting[side].set(id, pair);
    this.#peerControls[side].adopt(local.channel);
    this.#openEndLater(pair, local);
    return local.channel;
  }
}
