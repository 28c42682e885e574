/**
 * One direction of a virtual link, as `createVirtualLink` drives it: a plain
 * {@link VirtualPipe} (bandwidth, delay and faults of the link alone) or a
 * {@link VirtualAssociation} (a lane through a network's shared bottleneck).
 * Internal plumbing, not for users.
 */
import type { VirtualFlow } from './VirtualPipe';
import type { VirtualTrafficStats } from './VirtualStats';

export interface VirtualDirection {
  /** Counters of everything sent in this direction. */
  readonly stats: VirtualTrafficStats;
  /** Queues a validated message of `size` bytes from `flow`. */
  enqueue(flow: VirtualFlow, data: string | Uint8Array, size: number): void;
  /** When the last message of `flow` now on the wire arrives (`-Infinity` when none is). */
  lastArrival(flow: VirtualFlow): number;
  /** Throws away the messages of `flow` not yet on the wire, counting them as discarded. */
  discardQueued(flow: VirtualFlow): void;
  /** Throws away every message of `flow`, counting them as discarded. */
  discard(flow: VirtualFlow): void;
  /** Delivers what arrived for `flow` while its receiver was `'connecting'`. */
  release(flow: VirtualFlow): void;
  /** Cancels pending work. */
  dispose(): void;
  /** The round trip a transport would report now, ms (queueing included), when the direction models one. */
  roundTripMs?(): number;
}
