/**
 * An in-memory network between two endpoints, for testing transfer strategies
 * without WebRTC: bandwidth, delay, jitter, loss, reordering, duplication and
 * corruption, all on an RxJS scheduler.
 */
import { InvalidConfigError } from '../errors';
import { domException } from './domException';
import type { VirtualChannelInit, VirtualDataChannel } from './VirtualDataChannel';
import { resolveVirtualLinkConfig, type ResolvedVirtualLinkConfig, type VirtualLinkConfig } from './VirtualLinkConfig';
import type { VirtualPeer, VirtualSide } from './VirtualPeer';
import type { VirtualAssociationStats } from './VirtualAssociation';
import { VirtualChannelPairs } from './VirtualChannelPairs';
import type { VirtualDirection } from './VirtualDirection';
import type { VirtualGate } from './VirtualGate';
import { VirtualPipe } from './VirtualPipe';
import { mulberry32 } from './mulberry32';
import { emptyTrafficStats, type VirtualLinkStats, type VirtualTrafficStats } from './VirtualStats';
import { configObject } from '../configObject';

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

/** Mixed into the seed of the b → a stream of the built-in PRNG (the golden-ratio constant). */
const REVERSE_SEED_MIX = 0x9e37_79b9;

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
  config = configObject('createVirtualLink', config);
  const resolved = resolveVirtualLinkConfig(config);
  // The network fields as last set, to resolve `reconfigure` changes against (a default reorderDelayMs follows delayMs).
  let network: VirtualNetworkChanges = Object.fromEntries(NETWORK_FIELDS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  const { scheduler } = resolved;
  // One pipe per sending endpoint: `pipes.a` carries a → b. With the built-in PRNG, b → a draws from its own
  // stream, so the faults of one direction never depend on when the other direction sends (acks, under real time).
  const reverse = config.random === undefined ? { ...resolved, random: mulberry32(resolved.seed ^ REVERSE_SEED_MIX) } : resolved;
  const forward = wiring.forward?.(resolved);
  const pipes: Record<VirtualSide, VirtualDirection> = { a: forward ?? new VirtualPipe(resolved), b: new VirtualPipe(reverse) };
  // The channels, their ids and the endpoints; channels open (after `openDelayMs`) once `wiring.gate` is open.
  const pairs = new VirtualChannelPairs(resolved, pipes, wiring.gate);

  return {
    a: pairs.a,
    b: pairs.b,
    config: resolved,
    get closed() {
      return pairs.closed;
    },
    createChannel: (label, init) => pairs.createOne('a', label, init),
    createChannels: (n, init = {}) => {
      if (!Number.isInteger(n) || n < 1) throw new InvalidConfigError(`createChannels needs a positive integer count, got ${n}`, { n });
      const { label = 'channel', ...rest } = init;
      return pairs.createBatch(Array.from({ length: n }, (_, i) => `${label}-${i}`), rest);
    },
    stats: () => {
      const sum = emptyTrafficStats();
      for (const key of Object.keys(sum) as (keyof VirtualTrafficStats)[]) sum[key] = pipes.a.stats[key] + pipes.b.stats[key];
      const association = forward?.association?.();
      return { ...sum, aToB: { ...pipes.a.stats }, bToA: { ...pipes.b.stats }, channels: pairs.created, ...(association && { association }) };
    },
    close: () => pairs.closeAll(),
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
      pairs.closeAll(error);
    },
  };
}
