/**
 * Counters of a virtual link and its channels, so tests can assert that the
 * faults they injected really happened.
 */
import type { VirtualAssociationStats } from './VirtualAssociation';

/**
 * Traffic counters, seen from the sending side. For any channel or link:
 * `messagesSent = messagesDelivered - messagesDuplicated + messagesDropped + messagesDiscarded + messagesUndeliverable + messagesPending`.
 */
export interface VirtualTrafficStats {
  /** Messages accepted by `send()`. */
  messagesSent: number;
  /** Bytes accepted by `send()` (UTF-8 bytes for strings). */
  bytesSent: number;
  /** Message events fired at the receiver, duplicates included. */
  messagesDelivered: number;
  /** Bytes of those message events. */
  bytesDelivered: number;
  /** Messages lost in transit (unreliable channels only). */
  messagesDropped: number;
  /** Bytes of the lost messages. */
  bytesDropped: number;
  /** Extra copies delivered (unreliable channels only). */
  messagesDuplicated: number;
  /** Delivered messages with one bit flipped. */
  messagesCorrupted: number;
  /** Losses on reliable channels, repaired by a retransmission one round trip later. */
  messagesRetransmitted: number;
  /** Messages thrown away, unsent or in flight, because the channel or link closed. */
  messagesDiscarded: number;
  /**
   * Messages that arrived for a negotiated channel id the far endpoint had not
   * created (yet), and were dropped there, as Chromium does.
   */
  messagesUndeliverable: number;
  /** Bytes of the undeliverable messages. */
  bytesUndeliverable: number;
  /** Messages still buffered or in flight. */
  messagesPending: number;
}

/** Counters of one channel: what it sent (see {@link VirtualTrafficStats}) and what it received. */
export interface VirtualChannelStats extends VirtualTrafficStats {
  /** Message events fired at this channel. */
  messagesReceived: number;
  /** Bytes of those message events. */
  bytesReceived: number;
}

/** Counters of a whole link: the sum over all channels, and per direction. */
export interface VirtualLinkStats extends VirtualTrafficStats {
  /** Traffic sent from endpoint `a` to endpoint `b`. */
  readonly aToB: VirtualTrafficStats;
  /** Traffic sent from endpoint `b` to endpoint `a`. */
  readonly bToA: VirtualTrafficStats;
  /** Channel pairs created on the link so far (a negotiated pair counts once both endpoints created its id). */
  readonly channels: number;
  /** Only on a lane of a virtual network (`createVirtualNetwork`): its a → b congestion window, RTT and losses. */
  readonly association?: VirtualAssociationStats;
}

/** A zeroed set of traffic counters. */
export const emptyTrafficStats = (): VirtualTrafficStats => ({
  messagesSent: 0,
  bytesSent: 0,
  messagesDelivered: 0,
  bytesDelivered: 0,
  messagesDropped: 0,
  bytesDropped: 0,
  messagesDuplicated: 0,
  messagesCorrupted: 0,
  messagesRetransmitted: 0,
  messagesDiscarded: 0,
  messagesUndeliverable: 0,
  bytesUndeliverable: 0,
  messagesPending: 0,
});
