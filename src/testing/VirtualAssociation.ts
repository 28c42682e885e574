/**
 * One lane's association through a virtual network's bottleneck (its a → b
 * direction): messages are cut into segments of `mssBytes`, and an AIMD
 * congestion window decides how many bytes are in flight. Internal to
 * `createVirtualNetwork`; `createVirtualLink` drives it as a {@link VirtualDirection}.
 *
 * Congestion control, per association, simple enough to reason about:
 * - slow start: the window grows by each acked segment's size (doubling per RTT) while below the threshold;
 * - congestion avoidance: `+ mssBytes × acked / window` per ack, so `+1 MSS` per RTT;
 * - on a loss (a queue drop or a random loss, noticed one round trip after the segment's turn
 *   at the queue, as duplicate acks would tell): threshold and window halve (not below 2 MSS), at
 *   most once per window of data (a loss of a segment sent before the last halving does not halve again),
 *   and the segment is sent again (reliable channels) or its message dropped (unreliable ones);
 * - no timeouts, no pacing, no receiver window beyond `maxWindowBytes`.
 *
 * So on a path with random loss `p` an association sits near `mssBytes × 1.22 / (RTT × √p)`, and several
 * associations starting together slow-start into the queue and overflow it. A message leaves
 * `bufferedAmount` when its last segment has been sent; it is delivered when its last segment has
 * arrived (ordered channels also wait for the messages before it).
 */
import type { VirtualBottleneck } from './VirtualBottleneck';
import type { VirtualDirection } from './VirtualDirection';
import type { ResolvedVirtualNetworkConfig } from './VirtualNetworkConfig';
import type { VirtualFlow } from './VirtualPipe';
import { emptyTrafficStats, type VirtualTrafficStats } from './VirtualStats';
import type { VirtualTimeline } from './VirtualTimeline';

/** Congestion state of one lane (association), as `link.stats().association` and `network.stats().lanes` give it. */
export interface VirtualAssociationStats {
  /** The lane's number in its network, from 0 in creation order. */
  readonly lane: number;
  /** Congestion window, bytes. */
  readonly windowBytes: number;
  /** Slow-start threshold, bytes (`Infinity` until the first loss). */
  readonly slowStartThresholdBytes: number;
  /** Bytes sent and neither acked nor known lost. */
  readonly inFlightBytes: number;
  /** The latest round-trip sample, ms (queueing included; `undefined` before the first ack). */
  readonly rttMs?: number;
  /** Smoothed round trip (EWMA, 1/8), ms. */
  readonly smoothedRttMs?: number;
  /** Lowest round-trip sample, ms. */
  readonly minRttMs?: number;
  /** Segments sent, retransmissions included. */
  readonly segmentsSent: number;
  /** Segments sent again after a loss. */
  readonly retransmissions: number;
  /** This lane's segments dropped at the tail of the full queue. */
  readonly queueDrops: number;
  /** This lane's segments lost at random after the queue. */
  readonly randomLosses: number;
  /** Times the window was halved. */
  readonly windowHalvings: number;
  /** Payload bytes acked. */
  readonly bytesAcked: number;
}

/** A message of one flow, from `enqueue` until delivered, dropped, discarded or undeliverable. */
interface Message {
  readonly flow: VirtualFlow;
  readonly data: string | Uint8Array;
  readonly size: number;
  /** Its number within the flow, for ordered delivery. */
  readonly seq: number;
  readonly segments: number;
  /** Payload bytes cut into segments so far. */
  cut: number;
  /** All cut and handed to the network: it has left `bufferedAmount`. */
  sent: boolean;
  arrived: number;
  /** Lost segments waiting to be sent again. */
  resending: number;
  /** Latest scheduled arrival of its segments. */
  lastArriveAt: number;
  retransmitted: boolean;
  /** Counted as delivered, dropped, discarded or undeliverable. */
  finished: boolean;
}

interface Segment {
  readonly message: Message;
  readonly size: number;
  /** Transmission number (fresh for each send); losses below the recovery point do not halve again. */
  tsn: number;
  sentAt: number;
  resent: boolean;
}

/** Receive-side state of one flow. */
interface FlowState {
  nextSeq: number;
  nextDeliver: number;
  /** Messages not yet finished. */
  readonly live: Set<Message>;
  /** Complete (or given up) messages waiting for their turn, by seq; `null` marks one that will never come. */
  readonly ready: Map<number, Message | null>;
  /** Messages that completed while the receiver was `'connecting'`. */
  held: Message[];
}

export class VirtualAssociation implements VirtualDirection {
  readonly stats: VirtualTrafficStats = emptyTrafficStats();
  /** Messages with bytes not yet cut into segments, oldest first. */
  #sendQueue: Message[] = [];
  /** Lost segments to send again before new data. */
  #resend: Segment[] = [];
  readonly #flows = new Map<VirtualFlow, FlowState>();
  #window: number;
  #threshold = Infinity;
  #inFlight = 0;
  #nextTsn = 0;
  /** Losses of segments with a lower tsn belong to the last halving. */
  #recoveryPoint = 0;
  #rtt: number | undefined;
  #srtt: number | undefined;
  #minRtt: number | undefined;
  #counters = { segmentsSent: 0, retransmissions: 0, queueDrops: 0, randomLosses: 0, windowHalvings: 0, bytesAcked: 0 };
  #pumping = false;
  #disposed = false;

  constructor(
    readonly lane: number,
    private readonly config: ResolvedVirtualNetworkConfig,
    private readonly bottleneck: VirtualBottleneck,
    private readonly timeline: VirtualTimeline,
  ) {
    this.#window = Math.min(config.initialWindowBytes, config.maxWindowBytes);
  }

  /** The lane's congestion state now. */
  association(): VirtualAssociationStats {
    return {
      lane: this.lane,
      windowBytes: this.#window,
      slowStartThresholdBytes: this.#threshold,
      inFlightBytes: this.#inFlight,
      rttMs: this.#rtt,
      smoothedRttMs: this.#srtt,
      minRttMs: this.#minRtt,
      ...this.#counters,
    };
  }

  roundTripMs(): number {
    return this.#srtt ?? 2 * this.config.delayMs;
  }

  enqueue(flow: VirtualFlow, data: string | Uint8Array, size: number): void {
    const state = this.#state(flow);
    const segments = Math.max(1, Math.ceil(size / this.config.mssBytes));
    const message: Message = { flow, data, size, seq: state.nextSeq++, segments, cut: 0, sent: false, arrived: 0, resending: 0, lastArriveAt: -Infinity, retransmitted: false, finished: false };
    state.live.add(message);
    this.#sendQueue.push(message);
    this.#count(flow, 'messagesSent', 1);
    this.#count(flow, 'bytesSent', size);
    this.#count(flow, 'messagesPending', 1);
    this.#pump();
  }

  lastArrival(flow: VirtualFlow): number {
    let last = -Infinity;
    for (const m of this.#flows.get(flow)?.live ?? []) {
      if (!m.sent) continue; // not yet on the wire
      const at = m.resending > 0 ? this.timeline.now() + this.roundTripMs() : m.lastArriveAt;
      last = Math.max(last, at);
    }
    for (const m of this.#flows.get(flow)?.held ?? []) last = Math.max(last, m.lastArriveAt);
    return last;
  }

  discardQueued(flow: VirtualFlow): void {
    const unsent = this.#sendQueue.filter((m) => m.flow === flow);
    if (!unsent.length) return;
    this.#sendQueue = this.#sendQueue.filter((m) => m.flow !== flow);
    for (const m of unsent) this.#finish(m, 'messagesDiscarded');
  }

  discard(flow: VirtualFlow): void {
    this.discardQueued(flow);
    const state = this.#flows.get(flow);
    if (!state) return;
    for (const m of [...state.live]) this.#finish(m, 'messagesDiscarded');
    state.ready.clear();
    state.held = [];
  }

  release(flow: VirtualFlow): void {
    const state = this.#flows.get(flow);
    if (!state?.held.length) return;
    const held = state.held;
    state.held = [];
    for (const m of held) {
      if (flow.closed) this.#finish(m, 'messagesDiscarded');
      else this.#deliver(m);
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#sendQueue = [];
    this.#resend = [];
  }

  #state(flow: VirtualFlow): FlowState {
    let state = this.#flows.get(flow);
    if (!state) this.#flows.set(flow, (state = { nextSeq: 0, nextDeliver: 0, live: new Set(), ready: new Map(), held: [] }));
    return state;
  }

  #count(flow: VirtualFlow, key: keyof VirtualTrafficStats, n: number): void {
    flow.sender.stats[key] += n;
    this.stats[key] += n;
  }

  /** Ends a message's life (once) under `key`. */
  #finish(m: Message, key: 'messagesDelivered' | 'messagesDropped' | 'messagesDiscarded' | 'messagesUndeliverable'): void {
    if (m.finished) return;
    m.finished = true;
    this.#flows.get(m.flow)?.live.delete(m);
    this.#count(m.flow, key, 1);
    this.#count(m.flow, 'messagesPending', -1);
    if (key === 'messagesDelivered') this.#count(m.flow, 'bytesDelivered', m.size);
    if (key === 'messagesDropped') this.#count(m.flow, 'bytesDropped', m.size);
    if (key === 'messagesUndeliverable') this.#count(m.flow, 'bytesUndeliverable', m.size);
  }

  /** Sends segments while the window has room (one segment always goes when nothing is in flight). */
  #pump(): void {
    if (this.#pumping || this.#disposed) return;
    this.#pumping = true;
    try {
      while (!this.#disposed) {
        while (this.#resend.length && this.#resend[0].message.finished) this.#resend.shift()!.message.resending--;
        const size = this.#resend.length ? this.#resend[0].size : this.#nextSize();
        if (size < 0 || (this.#inFlight > 0 && this.#inFlight + size > this.#window)) break;
        this.#transmit(this.#resend.length ? this.#resend.shift()! : this.#cut());
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Size of the next new segment, or -1 when there is none; drops finished messages from the front. */
  #nextSize(): number {
    // An unreliable message dropped while partly cut leaves the send buffer unsent.
    while (this.#sendQueue.length && this.#sendQueue[0].finished) {
      const dropped = this.#sendQueue.shift()!;
      dropped.sent = true;
      dropped.flow.sender.drained(dropped.size);
    }
    const head = this.#sendQueue[0];
    return head ? Math.min(this.config.mssBytes, head.size - head.cut) : -1;
  }

  /** Cuts the next segment off the head message; once it is all cut, the message leaves `bufferedAmount`. */
  #cut(): Segment {
    const message = this.#sendQueue[0];
    const size = Math.min(this.config.mssBytes, message.size - message.cut);
    message.cut += size;
    const segment: Segment = { message, size, tsn: 0, sentAt: 0, resent: false };
    if (message.cut >= message.size) {
      this.#sendQueue.shift();
      message.sent = true;
      message.flow.sender.drained(message.size); // listeners may send (queued) or close (discarded) here
    }
    return segment;
  }

  /** Offers a segment to the bottleneck and schedules its arrival and ack, or the notice of its loss. */
  #transmit(segment: Segment): void {
    const now = this.timeline.now();
    const { delayMs } = this.config;
    segment.tsn = this.#nextTsn++;
    segment.sentAt = now;
    if (segment.resent) segment.message.resending--;
    this.#inFlight += segment.size;
    this.#counters.segmentsSent++;
    if (segment.resent) this.#counters.retransmissions++;
    const fate = this.bottleneck.offer(segment.size, now);
    if (fate.kind === 'forwarded' && !fate.lost) {
      const arriveAt = fate.departAt + delayMs;
      segment.message.lastArriveAt = Math.max(segment.message.lastArriveAt, arriveAt);
      this.timeline.at(arriveAt, () => this.#arrive(segment));
      this.timeline.at(arriveAt + delayMs, () => this.#acked(segment));
      return;
    }
    if (fate.kind === 'queue-drop') this.#counters.queueDrops++;
    else this.#counters.randomLosses++;
    if (segment.message.flow.unreliable) this.#giveUp(segment.message);
    this.timeline.at(fate.departAt + 2 * delayMs, () => this.#lost(segment));
  }

  /** An ack: the window grows (slow start or +1 MSS per RTT) and more may be sent. */
  #acked(segment: Segment): void {
    if (this.#disposed) return;
    const { mssBytes, maxWindowBytes } = this.config;
    this.#inFlight -= segment.size;
    this.#counters.bytesAcked += segment.size;
    if (!segment.resent) {
      const rtt = this.timeline.now() - segment.sentAt;
      this.#rtt = rtt;
      this.#srtt = this.#srtt === undefined ? rtt : this.#srtt + (rtt - this.#srtt) / 8;
      this.#minRtt = Math.min(this.#minRtt ?? Infinity, rtt);
    }
    const grow = this.#window < this.#threshold ? Math.min(segment.size, mssBytes) : (mssBytes * segment.size) / this.#window;
    this.#window = Math.min(maxWindowBytes, this.#window + grow);
    this.#pump();
  }

  /** A loss noticed: halve once per window of data, and send the segment again (reliable flows). */
  #lost(segment: Segment): void {
    if (this.#disposed) return;
    this.#inFlight -= segment.size;
    if (segment.tsn >= this.#recoveryPoint) {
      this.#threshold = Math.max(this.#window / 2, 2 * this.config.mssBytes);
      this.#window = this.#threshold;
      this.#recoveryPoint = this.#nextTsn;
      this.#counters.windowHalvings++;
    }
    const { message } = segment;
    if (!message.finished && !message.flow.unreliable) {
      if (!message.retransmitted) this.#count(message.flow, 'messagesRetransmitted', 1);
      message.retransmitted = true;
      message.resending++;
      segment.resent = true;
      this.#resend.push(segment);
    }
    this.#pump();
  }

  /** A segment arrived at the receiver; a message whose segments all arrived is ready. */
  #arrive(segment: Segment): void {
    const { message } = segment;
    if (this.#disposed || message.finished || message.flow.closed) return;
    if (++message.arrived < message.segments) return;
    const state = this.#state(message.flow);
    state.ready.set(message.seq, message);
    this.#deliverReady(message.flow, state);
  }

  /** An unreliable message lost a segment: it is dropped, and later ones need not wait for it. */
  #giveUp(message: Message): void {
    if (message.finished) return;
    this.#finish(message, 'messagesDropped');
    const state = this.#state(message.flow);
    state.ready.set(message.seq, null);
    this.#deliverReady(message.flow, state);
  }

  /** Delivers ready messages: unordered flows at once, ordered flows in sequence. */
  #deliverReady(flow: VirtualFlow, state: FlowState): void {
    if (!flow.ordered) {
      for (const [seq, m] of state.ready) {
        state.ready.delete(seq);
        if (m) this.#arrived(m, state);
      }
      return;
    }
    while (state.ready.has(state.nextDeliver)) {
      const m = state.ready.get(state.nextDeliver)!;
      state.ready.delete(state.nextDeliver++);
      if (m) this.#arrived(m, state);
      if (flow.closed) return;
    }
  }

  /** A complete message at the far end: undeliverable with no receiver, held while it connects, else delivered. */
  #arrived(m: Message, state: FlowState): void {
    const { flow } = m;
    if (!flow.receiver) this.#finish(m, 'messagesUndeliverable');
    else if (flow.receiver.channel.readyState === 'connecting') state.held.push(m);
    else this.#deliver(m);
  }

  #deliver(m: Message): void {
    this.#finish(m, 'messagesDelivered');
    const { data } = m;
    m.flow.receiver!.receive(typeof data === 'string' ? data : (data.buffer as ArrayBuffer), m.size);
  }
}
