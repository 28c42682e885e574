/**
 * A virtual network in which lanes (links, each a separate association with
 * its own congestion window) share one bottleneck: a forwarding rate, a
 * drop-tail queue whose fill adds delay, and random loss.
 */
import { createVirtualLink, type VirtualLink } from './createVirtualLink';
import { VirtualAssociation, type VirtualAssociationStats } from './VirtualAssociation';
import { VirtualBottleneck, type VirtualBottleneckStats } from './VirtualBottleneck';
import { VirtualGate } from './VirtualGate';
import { resolveVirtualNetworkConfig, type ResolvedVirtualNetworkConfig, type VirtualNetworkConfig } from './VirtualNetworkConfig';
import { VirtualPeerConnection, type VirtualLane, type VirtualSignalling } from './VirtualPeerConnection';
import { VirtualTimeline } from './VirtualTimeline';
import { configObject } from '../configObject';

/** The bottleneck's counters and every lane's congestion state. */
export interface VirtualNetworkStats extends VirtualBottleneckStats {
  /** One entry per lane ever created, in creation order (closed lanes keep their last state). */
  readonly lanes: readonly VirtualAssociationStats[];
}

/** A virtual network: see {@link createVirtualNetwork}. */
export interface VirtualNetwork {
  /** The configuration in force, defaults filled in. */
  readonly config: ResolvedVirtualNetworkConfig;
  /**
   * Creates a lane: a {@link VirtualLink} whose a → b direction goes through the
   * shared bottleneck with its own congestion window, and whose b → a direction
   * (acks, control) has the propagation delay only. Its channels open after `openDelayMs`.
   */
  createLink(): VirtualLink;
  /**
   * A `createConnection` for code that opens peer connections itself: each call
   * returns a new {@link VirtualPeerConnection} of this network, which becomes a
   * lane once its offer and answer were exchanged. Pass the same function to both peers.
   */
  readonly createConnection: (configuration?: Record<string, unknown>) => VirtualPeerConnection;
  /** The bottleneck's counters and every lane's window and RTT, now. */
  stats(): VirtualNetworkStats;
  /** Closes every lane. */
  close(): void;
}

/**
 * Creates a virtual network of lanes sharing one bottleneck, on an RxJS scheduler.
 *
 * - The bottleneck forwards `rateBytesPerSecond`. Its drop-tail queue holds `queueBytes`;
 *   a queued byte adds `1000 / rateBytesPerSecond` ms to the RTT, and a segment that does not fit
 *   is a queue drop. After the queue, a segment is lost with probability `lossRate`.
 * - Each lane is its own association: segments of `mssBytes`, an AIMD window (slow start,
 *   +1 MSS per RTT, halve on loss; see `VirtualAssociation`). On a lossy path one lane sits near
 *   `mssBytes × 1.22 / (RTT × √lossRate)`; lanes started together overflow the queue.
 * - Only the a → b direction is congested. Jitter, reordering, duplication and corruption are
 *   not modelled here (use `createVirtualLink` for those).
 *
 * ```
 * lane 0 ──┐                 ┌─ rate ─┐
 * lane 1 ──┼─▶ [queue ▮▮▮▮ ]─┤        ├─ delayMs ─ loss ─▶ receivers   (acks: delayMs back)
 * lane 2 ──┘   drop-tail     └────────┘
 * ```
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { createVirtualNetwork } from 'tallow-rx/testing';
 *
 * new TestScheduler((a, e) => expect(a).toEqual(e)).run(() => {
 *   const net = createVirtualNetwork({ rateBytesPerSecond: 1_250_000, queueBytes: 65_536, delayMs: 50, lossRate: 0.01 });
 *   const lanes = [net.createLink(), net.createLink()];
 *   // … send on lanes[i].createChannel('data'), then read net.stats().queueDrops and net.stats().lanes[i].windowBytes
 * });
 * ```
 *
 * @param config Bottleneck, path and congestion-control settings; see {@link VirtualNetworkConfig}.
 * @return The network.
 * @throws InvalidConfigError naming the first bad field.
 */
export function createVirtualNetwork(config: VirtualNetworkConfig = {}): VirtualNetwork {
  config = configObject('createVirtualNetwork', config);
  const resolved = resolveVirtualNetworkConfig(config);
  const { scheduler } = resolved;
  const timeline = new VirtualTimeline(scheduler);
  const bottleneck = new VirtualBottleneck(resolved);
  // Every lane, in creation order.
  const lanes: { link: VirtualLink; association: VirtualAssociation }[] = [];
  // Lanes offered by a connection and not yet answered, by token.
  const offered = new Map<string, VirtualLane>();

  const addLane = (gate?: VirtualGate): VirtualLink => {
    let association!: VirtualAssociation;
    const link = createVirtualLink(
      {
        scheduler,
        delayMs: resolved.delayMs,
        openDelayMs: resolved.openDelayMs,
        maxMessageSize: resolved.maxMessageSize,
        sendQueueLimit: resolved.sendQueueLimit,
      },
      { forward: () => (association = new VirtualAssociation(lanes.length, resolved, bottleneck, timeline)), gate },
    );
    lanes.push({ link, association });
    return link;
  };

  const signalling: VirtualSignalling = {
    offer: () => {
      const gate = new VirtualGate();
      const lane = { link: addLane(gate), token: `lane-${lanes.length - 1}`, gate };
      offered.set(lane.token, lane);
      return lane;
    },
    answer: (token) => {
      const lane = offered.get(token);
      offered.delete(token);
      return lane;
    },
    connect: (lane) => void scheduler.schedule(() => lane.gate.open(), resolved.connectDelayMs),
    soon: (fn) => void scheduler.schedule(fn, 0),
  };

  return {
    config: resolved,
    createLink: () => addLane(),
    createConnection: (configuration) => new VirtualPeerConnection(signalling, configuration),
    stats: () => ({ ...bottleneck.stats(scheduler.now()), lanes: lanes.map((l) => l.association.association()) }),
    close: () => {
      for (const { link } of lanes) link.close();
      offered.clear();
    },
  };
}
