/**
 * An in-memory network between two endpoints, for testing transfer strategies
 * without WebRTC: bandwidth, delay, jitter, loss, reordering, duplication and
 * corruption, all on an RxJS scheduler.
 */
import { InvalidConfigError } from '../errors';
import { domException } from './domException';
import { VirtualDataChannel, type VirtualChannelControl, type VirtualChannelInit } from './VirtualDataChannel';
import { resolveVirtualLinkConfig, type ResolvedVirtualLinkConfig, type VirtualLinkConfig } from './VirtualLinkConfig';
import { VirtualPeer, type VirtualPeerControl, type VirtualSide } from './VirtualPeer';
import { VirtualPipe, type VirtualFlow } from './VirtualPipe';
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
   * `'connecting'` and fire `open` after `openDelay` on the scheduler.
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
}

/** Both ends of one channel, with the two directions between them. */
interface Pair {
  readonly local: VirtualChannelControl;
  readonly remote: VirtualChannelControl;
  /** The endpoint where `local` lives. */
  readonly from: VirtualSide;
  /** `local` → `remote`, and back. */
  readonly forward: VirtualFlow;
  readonly backward: VirtualFlow;
  /** True once `open` fired (a pair closed earlier never opens). */
  opened: boolean;
  closing: boolean;
}

const other = (side: VirtualSide): VirtualSide => (side === 'a' ? 'b' : 'a');

const checkInit = (init: VirtualChannelInit): { ordered: boolean; maxRetransmits: number | null; protocol: string } => {
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

/**
 * Creates a virtual link: two endpoints joined by a modelled network, whose
 * channels behave like browser `RTCDataChannel`s and run on an RxJS scheduler.
 *
 * A message's life: `send()` adds it to `bufferedAmount`; the direction's
 * bandwidth drains the send buffer first-in first-out (shared by all channels);
 * when its last byte has drained, `bufferedAmount` falls by its size; it
 * arrives `delay ± jitter` ms later (plus a `reorderDelay` hold, or one round
 * trip if lost on a reliable channel).
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
 *   const link = createVirtualLink({ scheduler, bandwidth: 1000, delay: 10 });
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
export function createVirtualLink(config: VirtualLinkConfig = {}): VirtualLink {
  const resolved = resolveVirtualLinkConfig(config);
  const { scheduler } = resolved;
  // One pipe per sending endpoint: `pipes.a` carries a → b.
  const pipes: Record<VirtualSide, VirtualPipe> = { a: new VirtualPipe(resolved), b: new VirtualPipe(resolved) };
  // Pairs not yet closing.
  const live = new Set<Pair>();
  // Pairs created so far (also the next stream id).
  let created = 0;
  // Set by close() and fail().
  let closed = false;
  // The endpoints' event plumbing.
  const peerControls = {} as Record<VirtualSide, VirtualPeerControl>;

  /** Marks a pair as closing: both ends `closing`, undelivered messages discarded. */
  const startClosing = (pair: Pair): void => {
    pair.closing = true;
    live.delete(pair);
    for (const flow of [pair.forward, pair.backward]) flow.closed = true;
    pipes[pair.from].discard(pair.forward);
    pipes[other(pair.from)].discard(pair.backward);
    pair.local.setState('closing');
    pair.remote.setState('closing');
  };

  /**
   * Finishes closing: both ends `closed`, then `close` on `first` and on the far end.
   * A channel close first fires `closing` at the far end; a link failure fires `error` on both.
   */
  const finishClosing = (pair: Pair, first: VirtualChannelControl, cause: 'channel' | 'link' | Error): void => {
    const second = first === pair.local ? pair.remote : pair.local;
    if (pair.opened && cause === 'channel') second.dispatch({ type: 'closing', target: second.channel });
    if (pair.opened && cause instanceof Error) {
      first.dispatch({ type: 'error', error: cause, target: first.channel });
      second.dispatch({ type: 'error', error: cause, target: second.channel });
    }
    first.setState('closed');
    second.setState('closed');
    first.dispatch({ type: 'close', target: first.channel });
    second.dispatch({ type: 'close', target: second.channel });
  };

  /** `channel.close()` from one end: the stream reset reaches the far end one `delay` later. */
  const closePair = (pair: Pair, initiator: VirtualChannelControl): void => {
    if (pair.closing) return;
    startClosing(pair);
    scheduler.schedule(() => finishClosing(pair, initiator, 'channel'), resolved.delay);
  };

  /** Closes every live pair on the next tick, optionally with an `error` first. */
  const closeAll = (error?: Error): void => {
    if (closed) return;
    closed = true;
    const pairs = [...live];
    for (const pair of pairs) startClosing(pair);
    scheduler.schedule(() => {
      for (const pair of pairs) finishClosing(pair, pair.from === 'a' ? pair.local : pair.remote, error ?? 'link');
      pipes.a.dispose();
      pipes.b.dispose();
      for (const side of ['a', 'b'] as const) peerControls[side].dispatch({ type: 'connectionstatechange' });
    }, 0);
  };

  /**
   * Opens `pairs` together after `openDelay`: every channel is `open` before the
   * first event fires, so an `open` listener may use any channel of the batch.
   */
  const openLater = (pairs: Pair[]): void => {
    scheduler.schedule(() => {
      const ready = pairs.filter((pair) => !pair.closing);
      for (const pair of ready) {
        pair.opened = true;
        pair.local.setState('open');
        pair.remote.setState('open');
      }
      for (const pair of ready) {
        // A listener may have closed a pair of the batch already.
        if (!pair.closing) peerControls[other(pair.from)].dispatch({ type: 'datachannel', channel: pair.remote.channel });
        if (!pair.closing) pair.local.dispatch({ type: 'open', target: pair.local.channel });
        if (!pair.closing) pair.remote.dispatch({ type: 'open', target: pair.remote.channel });
      }
    }, resolved.openDelay);
  };

  /** Creates one pair (not yet scheduled to open). */
  const createPair = (from: VirtualSide, label: string, init: VirtualChannelInit = {}): Pair => {
    if (closed) throw domException('The virtual link is closed', 'InvalidStateError');
    const { ordered, maxRetransmits, protocol } = checkInit(init);
    const unreliable = maxRetransmits === 0 || (!ordered && maxRetransmits !== null);
    const id = created++;
    const controls: Partial<Record<'local' | 'remote', VirtualChannelControl>> = {};
    const make = (end: 'local' | 'remote'): VirtualDataChannel =>
      new VirtualDataChannel({
        label: String(label),
        id,
        ordered,
        maxRetransmits,
        protocol,
        connect: (control) => {
          controls[end] = control;
          return {
            maxMessageSize: resolved.maxMessageSize,
            sendQueueLimit: resolved.sendQueueLimit,
            // `pair` is declared below; the wire is only used after `open`.
            transmit: (data, size) => {
              if (end === 'local') pipes[from].enqueue(pair.forward, data, size);
              else pipes[other(from)].enqueue(pair.backward, data, size);
            },
            close: () => closePair(pair, control),
          };
        },
      });
    const localChannel = make('local');
    const remoteChannel = make('remote');
    const local = controls.local!;
    const remote = controls.remote!;
    const flow = (sender: VirtualChannelControl, receiver: VirtualChannelControl): VirtualFlow => ({
      sender,
      receiver,
      ordered,
      unreliable,
      lastDeliverAt: -Infinity,
      closed: false,
    });
    const pair: Pair = {
      local,
      remote,
      from,
      forward: flow(local, remote),
      backward: flow(remote, local),
      opened: false,
      closing: false,
    };
    live.add(pair);
    peerControls[from].adopt(localChannel);
    peerControls[other(from)].adopt(remoteChannel);
    return pair;
  };

  /** Creates one pair from `from`, opening after `openDelay`; returns `[from's end, far end]`. */
  const createOne = (from: VirtualSide, label: string, init?: VirtualChannelInit): [VirtualDataChannel, VirtualDataChannel] => {
    const pair = createPair(from, label, init);
    openLater([pair]);
    return [pair.local.channel, pair.remote.channel];
  };

  const peer = (side: VirtualSide): VirtualPeer =>
    new VirtualPeer(side, (control) => {
      peerControls[side] = control;
      return {
        maxMessageSize: resolved.maxMessageSize,
        createChannel: (label, init) => createOne(side, label, init),
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
      return [pairs.map((p) => p.local.channel), pairs.map((p) => p.remote.channel)];
    },
    stats: () => {
      const sum = emptyTrafficStats();
      for (const key of Object.keys(sum) as (keyof VirtualTrafficStats)[]) sum[key] = pipes.a.stats[key] + pipes.b.stats[key];
      return { ...sum, aToB: { ...pipes.a.stats }, bToA: { ...pipes.b.stats }, channels: created };
    },
    close: () => closeAll(),
    fail: (errorDetail = 'sctp-failure') => {
      const error = domException(`virtual transport failure: ${errorDetail}`, 'OperationError');
      Object.assign(error, { errorDetail });
      closeAll(error);
    },
  };
}
