/**
 * An in-memory network between two endpoints, for testing transfer strategies
 * without WebRTC: bandwidth, delay, jitter, loss, reordering, duplication and
 * corruption, all on an RxJS scheduler.
 */
import { InvalidConfigError } from '../errors';
import { domException } from './domException';
import { VirtualDataChannel, type VirtualChannelControl, type VirtualChannelInit } from './VirtualDataChannel';
import { resolveVirtualLinkConfig, type ResolvedVirtualLinkConfig, type VirtualLinkConfig } from './VirtualLinkConfig';
import { VirtualPeer, type VirtualDataChannelInit, type VirtualPeerControl, type VirtualSide } from './VirtualPeer';
import type { VirtualAssociationStats } from './VirtualAssociation';
import type { VirtualDirection } from './VirtualDirection';
import type { VirtualGate } from './VirtualGate';
import { VirtualPipe, type VirtualFlow } from './VirtualPipe';
import { mulberry32 } from './mulberry32';
import { emptyTrafficStats, type VirtualLinkStats, type VirtualTrafficStats } from './VirtualStats';

/** Options of `createChannels`: a channel init plus a label prefix. */
export interface VirtualChannelsInit extends VirtualChannelInit {
  /** Labels are `${label}-0`, `${label}-1`, …. Default `'channel'`. */
  readonly label?: string;
}

/** A virtual network between endpoints `a` and `b`. */
export interface VirtualLink {
  /** Endpoint `a`: `createChannel` puts the local end here. */
  readonly a: VirtualPeer;
  /** Endpoint `b`: `createChannel` puts the remote end here. */
  readonly b: VirtualPeer;
  /** The configuration in force, defaults filled in. */
  readonly config: ResolvedVirtualLinkConfig;
  /** True once `close()` or `fail()` was called. */
  readonly closed: boolean;
  /**
   * Creates a channel pair: `local` at `a`, `remote` at `b`. Both start
   * `'connecting'` and fire `open` after `openDelayMs` on the scheduler.
   * @throws InvalidConfigError for a bad `init`; DOMException `InvalidStateError` once the link is closed.
   */
  createChannel(label: string, init?: VirtualChannelInit): [local: VirtualDataChannel, remote: VirtualDataChannel];
  /** Creates `n` channel pairs that open together (all `open` before the first `open` event) and returns `[locals, remotes]`. */
  createChannels(n: number, init?: VirtualChannelsInit): [local: VirtualDataChannel[], remote: VirtualDataChannel[]];
  /** A snapshot of the traffic counters: totals, per direction and the number of pairs created. */
  stats(): VirtualLinkStats;
  /** Closes every channel (`closing` now, `closed` and `close` on the next tick), like `RTCPeerConnection.close()`. Idempotent. */
  close(): void;
  /**
   * Simulates a transport failure: every channel still open fires `error` (an
   * `OperationError` with `errorDetail`, like `RTCErrorEvent`) and then `close`,
   * on the next tick. Idempotent; does nothing once the link is closed.
   */
  fail(errorDetail?: string): void;
  /**
   * Changes the network model from now on: `bandwidth`, `delayMs`, `jitterMs`,
   * `lossRate`, `reorder`, `reorderDelayMs`, `duplicate` and `corrupt`, in both
   * directions. Messages already scheduled keep their times; the next ones use
   * the new values. Use it to step the RTT mid-transfer. Validated like the
   * constructor's config (`InvalidConfigError`); the random streams go on.
   */
  reconfigure(changes: VirtualNetworkChanges): void;
}

/**
 * How a virtual network wires a lane (`createVirtualNetwork`): its a → b
 * direction goes through the shared bottleneck, and its channels wait for the
 * connection. Internal plumbing, not for users.
 */
export interface VirtualLinkWiring {
  /** The a → b direction. Default: a `VirtualPipe` with the link's own config. */
  readonly forward?: (config: ResolvedVirtualLinkConfig) => VirtualDirection & { association?(): VirtualAssociationStats };
  /** Channels open (after `openDelayMs`) only once this gate is open. Default: at once. */
  readonly gate?: VirtualGate;
}

/** The fields {@link VirtualLink.reconfigure} can change. */
export type VirtualNetworkChanges = Pick<VirtualLinkConfig, 'bandwidth' | 'delayMs' | 'jitterMs' | 'lossRate' | 'reorder' | 'reorderDelayMs' | 'duplicate' | 'corrupt'>;

const NETWORK_FIELDS = ['bandwidth', 'delayMs', 'jitterMs', 'lossRate', 'reorder', 'reorderDelayMs', 'duplicate', 'corrupt'] as const;

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

/** Mixed into the seed of the b → a stream of the built-in PRNG (the golden-ratio constant). */
const REVERSE_SEED_MIX = 0x9e37_79b9;

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

/**
 * Creates a virtual link: two endpoints joined by a modelled network, whose
 * channels behave like browser `RTCDataChannel`s and run on an RxJS scheduler.
 *
 * A message's life: `send()` adds it to `bufferedAmount`; the direction's
 * bandwidth drains the send buffer first-in first-out (shared by all channels);
 * when its last byte has drained, `bufferedAmount` falls by its size; it
 * arrives `delayMs ± jitterMs` ms later (plus a `reorderDelayMs` hold, or one round
 * trip if lost on a reliable channel).
 *
 * Channels made by `link.createChannel` or `peer.createDataChannel(label)` are
 * in-band: both ends exist at once and the far endpoint fires `datachannel`.
 * `peer.createDataChannel(label, { negotiated: true, id })` makes one end only;
 * it pairs with the end the other endpoint creates with the same id (see
 * {@link VirtualPeer.createDataChannel}).
 *
 * ```
 * bandwidth 1000 B/s, delay 10 ms, three 100 B sends at t=0:
 * bufferedAmount   300 -- 200 -- 100 -- 0
 * time (ms)        0      100    200    300
 * remote message          110    210    310
 * ```
 *
 * ## Example
 * ```ts
 * import { fromEvent, map } from 'rxjs';
 * import { TestScheduler } from 'rxjs/testing';
 * import { createVirtualLink } from 'tallow-rx/testing';
 *
 * const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
 * scheduler.run(({ expectObservable }) => {
 *   const link = createVirtualLink({ scheduler, bandwidth: 1000, delayMs: 10 });
 *   const [local, remote] = link.createChannel('data');
 *   local.onopen = () => local.send(new Uint8Array(100));
 *   const sizes = fromEvent<MessageEvent>(remote, 'message').pipe(map((e) => e.data.byteLength));
 *   expectObservable(sizes).toBe('110ms a', { a: 100 });
 * });
 * ```
 *
 * @param config Network model and limits; see {@link VirtualLinkConfig}.
 * @return The link, with endpoints `a` and `b`.
 * @throws InvalidConfigError naming the first bad field.
 */
export function createVirtualLink(config: VirtualLinkConfig = {}, wiring: VirtualLinkWiring = {}): VirtualLink {
  const resolved = resolveVirtualLinkConfig(config);
  // The network fields as last set, to resolve `reconfigure` changes against (a default reorderDelayMs follows delayMs).
  let network: VirtualNetworkChanges = Object.fromEntries(NETWORK_FIELDS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  const { scheduler } = resolved;
  // One pipe per sending endpoint: `pipes.a` carries a → b. With the built-in PRNG, b → a draws from its own
  // stream, so the faults of one direction never depend on when the other direction sends (acks, under real time).
  const reverse = config.random === undefined ? { ...resolved, random: mulberry32(resolved.seed ^ REVERSE_SEED_MIX) } : resolved;
  const forward = wiring.forward?.(resolved);
  const pipes: Record<VirtualSide, VirtualDirection> = { a: forward ?? new VirtualPipe(resolved), b: new VirtualPipe(reverse) };
  // Schedules `fn` after `openDelayMs`, counted from when the gate opens (a network lane's connection).
  const afterOpenDelay = (fn: () => void): void => {
    const start = () => void scheduler.schedule(fn, resolved.openDelayMs);
    if (wiring.gate) wiring.gate.whenOpen(start);
    else start();
  };
  // Pairs not yet closing (negotiated halves included).
  const live = new Set<Pair>();
  // Pairs with both ends created so far.
  let created = 0;
  // The next in-band stream id to try.
  let nextId = 0;
  // Stream ids of the channels not yet closed, per endpoint.
  const inUse: Record<VirtualSide, Set<number>> = { a: new Set(), b: new Set() };
  // Negotiated halves waiting for the far endpoint to create their id, by endpoint and id.
  const waiting: Record<VirtualSide, Map<number, Pair>> = { a: new Map(), b: new Map() };
  // Set by close() and fail().
  let closed = false;
  // The endpoints' event plumbing.
  const peerControls = {} as Record<VirtualSide, VirtualPeerControl>;

  /** Where an end of `pair` lives. */
  const sideOf = (pair: Pair, end: VirtualChannelControl): VirtualSide => (end === pair.local ? pair.from : other(pair.from));

  /** Marks a pair as closing: both ends `closing`, undelivered messages discarded. */
  const startClosing = (pair: Pair): void => {
    pair.closing = true;
    live.delete(pair);
    if (waiting[pair.from].get(pair.id) === pair) waiting[pair.from].delete(pair.id);
    pair.forward.closed = true;
    pipes[pair.from].discard(pair.forward);
    if (pair.backward) {
      pair.backward.closed = true;
      pipes[other(pair.from)].discard(pair.backward);
    }
    pair.local.setState('closing');
    pair.remote?.setState('closing');
  };

  /**
   * Finishes closing: both ends `closed` (their ids free again), then `close` on
   * `first` and on the far end. A channel close first fires `closing` at the far
   * end; a link failure fires `error` on every end that was open.
   */
  const finishClosing = (pair: Pair, first: VirtualChannelControl, cause: 'channel' | 'link' | Error): void => {
    const second = first === pair.local ? pair.remote : pair.local;
    if (second && pair.opened.has(second) && cause === 'channel') second.dispatch({ type: 'closing', target: second.channel });
    if (cause instanceof Error) {
      for (const end of [first, second]) if (end && pair.opened.has(end)) end.dispatch({ type: 'error', error: cause, target: end.channel });
    }
    for (const end of [first, second]) {
      if (!end) continue;
      end.setState('closed');
      inUse[sideOf(pair, end)].delete(pair.id);
    }
    first.dispatch({ type: 'close', target: first.channel });
    second?.dispatch({ type: 'close', target: second.channel });
  };

  /**
   * `channel.close()` from one end: the stream reset reaches the far end one `delayMs` later, and, on a
   * reliable channel, not before the messages this end already put on the wire (as SCTP resets a stream
   * only after its outstanding data; messages still in the send buffer are discarded).
   */
  const closePair = (pair: Pair, initiator: VirtualChannelControl): void => {
    if (pair.closing || pair.closeRequested) return;
    const [out, pipe] = initiator === pair.local ? [pair.forward, pipes[pair.from]] : [pair.backward, pipes[other(pair.from)]];
    // Messages still on the wire (also those already due but not yet delivered, when the scheduler runs late).
    const wait = out && !out.unreliable ? pipe.lastArrival(out) - scheduler.now() : -Infinity;
    if (wait === -Infinity) {
      startClosing(pair);
      scheduler.schedule(() => finishClosing(pair, initiator, 'channel'), resolved.delayMs);
      return;
    }
    pair.closeRequested = true;
    initiator.setState('closing');
    pipe.discardQueued(out!);
    scheduler.schedule(() => {
      if (pair.closing) return; // the whole link closed meanwhile
      startClosing(pair);
      finishClosing(pair, initiator, 'channel');
    }, Math.max(resolved.delayMs, wait + 1, 1));
  };

  /** Closes every live pair on the next tick, optionally with an `error` first. */
  const closeAll = (error?: Error): void => {
    if (closed) return;
    closed = true;
    const pairs = [...live];
    for (const pair of pairs) startClosing(pair);
    scheduler.schedule(() => {
      for (const pair of pairs) finishClosing(pair, pair.from === 'a' || !pair.remote ? pair.local : pair.remote, error ?? 'link');
      pipes.a.dispose();
      pipes.b.dispose();
      for (const side of ['a', 'b'] as const) peerControls[side].dispatch({ type: 'connectionstatechange' });
    }, 0);
  };

  /**
   * Opens in-band `pairs` together after `openDelayMs`: every channel is `open`
   * before the first event fires, so an `open` listener may use any channel of
   * the batch. The far endpoint announces each with `datachannel` first.
   */
  const openLater = (pairs: Pair[]): void => {
    afterOpenDelay(() => {
      const ready = pairs.filter((pair) => !pair.closing);
      for (const pair of ready) {
        pair.opened.add(pair.local).add(pair.remote!);
        pair.local.setState('open');
        pair.remote!.setState('open');
      }
      for (const pair of ready) {
        // A listener may have closed a pair of the batch already.
        if (!pair.closing) peerControls[other(pair.from)].dispatch({ type: 'datachannel', channel: pair.remote!.channel });
        if (!pair.closing) pair.local.dispatch({ type: 'open', target: pair.local.channel });
        if (!pair.closing) pair.remote!.dispatch({ type: 'open', target: pair.remote!.channel });
      }
    });
  };

  /**
   * Opens one end of a negotiated pair after `openDelayMs`, whether or not the far
   * end exists (the transport is up, as in Chromium), without `datachannel`;
   * then delivers what arrived for it while it was connecting.
   */
  const openEndLater = (pair: Pair, end: VirtualChannelControl): void => {
    afterOpenDelay(() => {
      if (pair.closing) return;
      pair.opened.add(end);
      end.setState('open');
      end.dispatch({ type: 'open', target: end.channel });
      const incoming = end === pair.local ? pair.backward : pair.forward;
      if (incoming) pipes[other(sideOf(pair, end))].release(incoming);
    });
  };

  /** Creates one end of `pair()`; `outgoing()` names the pipe and flow its sends take, looked up at send time. */
  const createEnd = (label: string, id: number, options: EndOptions, negotiated: boolean, pair: () => Pair, outgoing: () => [VirtualDirection, VirtualFlow]): VirtualChannelControl => {
    let control!: VirtualChannelControl;
    new VirtualDataChannel({
      label: String(label),
      id,
      negotiated,
      ...options,
      connect: (c) => {
        control = c;
        return {
          maxMessageSize: resolved.maxMessageSize,
          sendQueueLimit: resolved.sendQueueLimit,
          // Only used after `open`, once the pair exists.
          transmit: (data, size) => {
            const [pipe, flow] = outgoing();
            pipe.enqueue(flow, data, size);
          },
          close: () => closePair(pair(), control),
        };
      },
    });
    return control;
  };

  /** The lowest in-band id from `nextId` on that no channel at either endpoint uses. */
  const allocateId = (): number => {
    while (inUse.a.has(nextId) || inUse.b.has(nextId)) nextId++;
    return nextId++;
  };

  /** Creates one in-band pair (not yet scheduled to open). */
  const createPair = (from: VirtualSide, label: string, init: VirtualChannelInit = {}): Pair => {
    if (closed) throw domException('The virtual link is closed', 'InvalidStateError');
    const options = checkInit(init);
    const id = allocateId();
    // The closures read `pair`, declared below, only once the channels are used.
    const local = createEnd(label, id, options, false, () => pair, () => [pipes[from], pair.forward]);
    const remote = createEnd(label, id, options, false, () => pair, () => [pipes[other(from)], pair.backward!]);
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
    live.add(pair);
    created++;
    inUse.a.add(id);
    inUse.b.add(id);
    peerControls[from].adopt(local.channel);
    peerControls[other(from)].adopt(remote.channel);
    return pair;
  };

  /** Creates one in-band pair from `from`, opening after `openDelayMs`; returns `[from's end, far end]`. */
  const createOne = (from: VirtualSide, label: string, init?: VirtualChannelInit): [VirtualDataChannel, VirtualDataChannel] => {
    const pair = createPair(from, label, init);
    openLater([pair]);
    return [pair.local.channel, pair.remote!.channel];
  };

  /**
   * Creates the end of negotiated channel `init.id` at `side`: it completes the
   * far endpoint's waiting half with that id, or waits for one itself. Either
   * way it opens after `openDelayMs` and no `datachannel` fires.
   */
  const createNegotiated = (side: VirtualSide, label: string, init: VirtualDataChannelInit): VirtualDataChannel => {
    if (closed) throw domException('The virtual link is closed', 'InvalidStateError');
    const options = checkInit(init);
    const id = checkId(init.id);
    if (inUse[side].has(id)) throw domException(`Data channel id ${id} is already in use at endpoint ${side}`, 'OperationError');
    inUse[side].add(id);
    const half = waiting[other(side)].get(id);
    if (half) {
      waiting[other(side)].delete(id);
      const remote = createEnd(label, id, options, true, () => half, () => [pipes[side], half.backward!]);
      half.remote = remote;
      half.backward = flowOf(remote, half.local, options);
      half.forward.receiver = remote;
      created++;
      peerControls[side].adopt(remote.channel);
      openEndLater(half, remote);
      return remote.channel;
    }
    const local = createEnd(label, id, options, true, () => pair, () => [pipes[side], pair.forward]);
    const pair: Pair = { local, remote: undefined, from: side, id, forward: flowOf(local, undefined, options), backward: undefined, opened: new Set(), closing: false };
    live.add(pair);
    waiting[side].set(id, pair);
    peerControls[side].adopt(local.channel);
    openEndLater(pair, local);
    return local.channel;
  };

  const peer = (side: VirtualSide): VirtualPeer =>
    new VirtualPeer(side, (control) => {
      peerControls[side] = control;
      return {
        maxMessageSize: resolved.maxMessageSize,
        roundTripMs: () => pipes.a.roundTripMs?.() ?? 2 * resolved.delayMs,
        traffic: () => (side === 'a' ? { sent: pipes.a.stats.bytesDelivered, received: pipes.b.stats.bytesDelivered } : { sent: pipes.b.stats.bytesDelivered, received: pipes.a.stats.bytesDelivered }),
        createDataChannel: (label, init = {}) => (init.negotiated ? createNegotiated(side, label, init) : createOne(side, label, init)[0]),
        isClosed: () => closed,
        close: () => closeAll(),
      };
    });
  const a = peer('a');
  const b = peer('b');

  return {
    a,
    b,
    config: resolved,
    get closed() {
      return closed;
    },
    createChannel: (label, init) => createOne('a', label, init),
    createChannels: (n, init = {}) => {
      if (!Number.isInteger(n) || n < 1) throw new InvalidConfigError(`createChannels needs a positive integer count, got ${n}`, { n });
      const { label = 'channel', ...rest } = init;
      checkInit(rest); // fail before creating any pair
      const pairs = Array.from({ length: n }, (_, i) => createPair('a', `${label}-${i}`, rest));
      openLater(pairs);
      return [pairs.map((p) => p.local.channel), pairs.map((p) => p.remote!.channel)];
    },
    stats: () => {
      const sum = emptyTrafficStats();
      for (const key of Object.keys(sum) as (keyof VirtualTrafficStats)[]) sum[key] = pipes.a.stats[key] + pipes.b.stats[key];
      const association = forward?.association?.();
      return { ...sum, aToB: { ...pipes.a.stats }, bToA: { ...pipes.b.stats }, channels: created, ...(association && { association }) };
    },
    close: () => closeAll(),
    reconfigure: (changes) => {
      const next = { ...network, ...changes };
      const fresh = resolveVirtualLinkConfig({ ...next, scheduler });
      network = next;
      for (const target of [resolved, reverse]) {
        for (const k of NETWORK_FIELDS) (target as Record<string, unknown>)[k] = fresh[k];
      }
    },
    fail: (errorDetail = 'sctp-failure') => {
      const error = domException(`virtual transport failure: ${errorDetail}`, 'OperationError');
      Object.assign(error, { errorDetail });
      closeAll(error);
    },
  };
}
