/**
 * One direction of a virtual link: a first-in first-out serialiser that drains
 * at the link's bandwidth, followed by the fault model (delay, jitter, loss,
 * reorder, duplicate, corrupt) and a time-ordered delivery queue. Internal to
 * `createVirtualLink`.
 */
import type { Subscription } from 'rxjs';
import type { VirtualChannelControl } from './VirtualDataChannel';
import type { ResolvedVirtualLinkConfig } from './VirtualLinkConfig';
import { emptyTrafficStats, type VirtualTrafficStats } from './VirtualStats';
import { before, heapPop, heapPush } from './timeHeap';

/** Float tolerance when comparing virtual times, in ms. */
const TIME_EPSILON = 1e-6;
/** Compact the send queue array once this many slots at its front are spent. */
const COMPACT_AFTER = 1024;

/** One direction of one channel pair. */
export interface VirtualFlow {
  readonly sender: VirtualChannelControl;
  /**
   * The far end, or `undefined` while a negotiated channel waits for the far
   * endpoint to create its id: what arrives meanwhile is undeliverable.
   */
  receiver: VirtualChannelControl | undefined;
  readonly ordered: boolean;
  /** `maxRetransmits === 0`, or unordered with `maxRetransmits` set: loss drops, duplicates happen. */
  readonly unreliable: boolean;
  /** Delivery time of the newest message scheduled on this flow (ordered channels never deliver earlier). */
  lastDeliverAt: number;
  /** Set when the pair starts closing: its messages are discarded. */
  closed: boolean;
}

/** The random fate of one message, drawn when it is sent (five draws, always, so runs replay exactly). */
interface Fate {
  readonly lost: boolean;
  /** Offset added to the one-way delay, in ms. */
  readonly jitterMs: number;
  readonly held: boolean;
  readonly duplicated: boolean;
  /** Position of the bit to flip as a fraction of the message's bits, or -1. */
  readonly corruptAt: number;
}

/** A message waiting in the send buffer. */
interface Queued {
  readonly flow: VirtualFlow;
  readonly data: string | Uint8Array;
  readonly size: number;
  readonly enqueuedAt: number;
  readonly fate: Fate;
}

/** A message on the wire, due at `at`. */
interface InFlight {
  readonly at: number;
  /** Tie-break: the order messages left the send buffer. */
  readonly order: number;
  readonly flow: VirtualFlow;
  readonly data: string | Uint8Array;
  readonly size: number;
  /** An extra copy made by `duplicate`. */
  readonly copy: boolean;
  readonly corrupted: boolean;
}

/** Flips one bit of a payload, at `fraction` of its length; strings go through UTF-8. */
const flipBit = (data: string | Uint8Array, fraction: number): string | Uint8Array => {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const bit = Math.min(bytes.length * 8 - 1, Math.floor(fraction * bytes.length * 8));
  bytes[bit >> 3] ^= 1 << (bit & 7);
  return typeof data === 'string' ? new TextDecoder().decode(bytes) : bytes;
};

export class VirtualPipe {
  /** Counters of everything sent in this direction. */
  readonly stats: VirtualTrafficStats = emptyTrafficStats();
  /** The send buffer, shared by all channels of this direction; live entries start at `head`. */
  #queue: (Queued | undefined)[] = [];
  /** Index of the message now draining. */
  #head = 0;
  /** When the message at `head` started draining. */
  #headStart = 0;
  /** When the last message finished draining. */
  #idleFrom = -Infinity;
  /** The pending drain completion, and its due time. */
  #drainAction: Subscription | undefined;
  #drainAt = NaN;
  /** True inside a drain tick: sends made by listeners wait for the next tick. */
  #ticking = false;
  /** Messages on the wire: a binary min-heap on (`at`, `order`). */
  #flight: InFlight[] = [];
  /** Next tie-break number. */
  #order = 0;
  /** The pending delivery, and its due time. */
  #deliverAction: Subscription | undefined;
  #deliverAt = NaN;
  /** Messages that arrived while their receiver was still `'connecting'`, per flow, in arrival order. */
  readonly #held = new Map<VirtualFlow, InFlight[]>();

  constructor(private readonly config: ResolvedVirtualLinkConfig) {}

  /** Queues a validated message of `size` bytes from `flow` and draws its fate. */
  enqueue(flow: VirtualFlow, data: string | Uint8Array, size: number): void {
    const { random, lossRate, jitterMs, reorder, duplicate, corrupt, faultFilter } = this.config;
    const [u1, u2, u3, u4, u5] = [random(), random(), random(), random(), random()];
    // The draws are taken either way, so a filtered channel never shifts other messages' fates.
    const faulty = faultFilter(flow.sender.channel);
    const fate: Fate = {
      lost: faulty && u1 < lossRate,
      jitterMs: (2 * u2 - 1) * jitterMs,
      held: faulty && u3 < reorder,
      duplicated: faulty && u4 < duplicate,
      corruptAt: faulty && u5 < corrupt ? u5 / corrupt : -1,
    };
    const now = this.config.scheduler.now();
    if (this.#head === this.#queue.length) this.#headStart = Math.max(now, this.#idleFrom);
    this.#queue.push({ flow, data, size, enqueuedAt: now, fate });
    this.#count(flow, 'messagesSent', 1);
    this.#count(flow, 'bytesSent', size);
    this.#count(flow, 'messagesPending', 1);
    if (!this.#ticking) this.#scheduleDrain();
  }

  /** When the last message of `flow` now on the wire arrives (`-Infinity` when none is). */
  lastArrival(flow: VirtualFlow): number {
    let last = -Infinity;
    for (const m of this.#flight) if (m.flow === flow && m.at > last) last = m.at;
    for (const m of this.#held.get(flow) ?? []) if (m.at > last) last = m.at;
    return last;
  }

  /** Throws away the messages of `flow` still in the send buffer (not yet on the wire), counting them as discarded. */
  discardQueued(flow: VirtualFlow): void {
    const live = this.#queue.slice(this.#head) as Queued[];
    const kept = live.filter((q) => q.flow !== flow);
    if (kept.length !== live.length) {
      const headLost = live[0]?.flow === flow;
      for (let i = live.length - kept.length; i > 0; i--) this.#gone(flow, 'messagesDiscarded');
      this.#queue = kept;
      this.#head = 0;
      if (headLost && kept.length) this.#headStart = Math.max(this.config.scheduler.now(), kept[0].enqueuedAt);
      if (!this.#ticking) this.#scheduleDrain();
    }
  }

  /** Throws away every queued and in-flight message of `flow`, counting them as discarded. */
  discard(flow: VirtualFlow): void {
    this.discardQueued(flow);
    const flight = this.#flight.filter((m) => m.flow !== flow);
    if (flight.length !== this.#flight.length) {
      for (const m of this.#flight) if (m.flow === flow && !m.copy) this.#gone(flow, 'messagesDiscarded');
      this.#flight = flight.sort((x, y) => (before(x, y) ? -1 : 1));
    }
    for (const m of this.#held.get(flow) ?? []) if (!m.copy) this.#gone(flow, 'messagesDiscarded');
    this.#held.delete(flow);
  }

  /**
   * Delivers what arrived for `flow` while its receiver was `'connecting'`. The
   * link calls it right after the receiver fired `open`.
   */
  release(flow: VirtualFlow): void {
    const held = this.#held.get(flow);
    if (!held) return;
    this.#held.delete(flow);
    for (const m of held) {
      // A message listener may close the channel: the rest is discarded.
      if (flow.closed) {
        if (!m.copy) this.#gone(flow, 'messagesDiscarded');
      } else this.#deliver(m);
    }
  }

  /** Cancels pending work. Call after every flow was discarded. */
  dispose(): void {
    this.#drainAction?.unsubscribe();
    this.#deliverAction?.unsubscribe();
    this.#drainAction = this.#deliverAction = undefined;
  }

  /** Adds `n` to a counter of the sender's channel and of this direction. */
  #count(flow: VirtualFlow, key: keyof VirtualTrafficStats, n: number): void {
    flow.sender.stats[key] += n;
    this.stats[key] += n;
  }

  /** Ends a message's life as dropped, discarded or undeliverable. */
  #gone(flow: VirtualFlow, key: 'messagesDropped' | 'messagesDiscarded' | 'messagesUndeliverable'): void {
    this.#count(flow, key, 1);
    this.#count(flow, 'messagesPending', -1);
  }

  #duration(size: number): number {
    return this.config.bandwidth === Infinity ? 0 : (size * 1000) / this.config.bandwidth;
  }

  #scheduleDrain(): void {
    const head = this.#queue[this.#head];
    if (!head) {
      this.#drainAction?.unsubscribe();
      this.#drainAction = undefined;
      return;
    }
    const due = this.#headStart + this.#duration(head.size);
    if (this.#drainAction && this.#drainAt === due) return;
    this.#drainAction?.unsubscribe();
    this.#drainAt = due;
    const { scheduler } = this.config;
    this.#drainAction = scheduler.schedule(() => this.#drainTick(), Math.max(0, due - scheduler.now()));
  }

  /** Completes every message that has drained by now (at most those queued when the tick began). */
  #drainTick(): void {
    this.#drainAction = undefined;
    this.#ticking = true;
    const limit = this.config.scheduler.now() + TIME_EPSILON;
    try {
      for (let budget = this.#queue.length - this.#head; budget > 0; budget--) {
        const entry = this.#queue[this.#head];
        if (!entry) break;
        const doneAt = this.#headStart + this.#duration(entry.size);
        if (doneAt > limit) break;
        this.#queue[this.#head++] = undefined;
        this.#idleFrom = doneAt;
        const next = this.#queue[this.#head];
        if (next) this.#headStart = Math.max(doneAt, next.enqueuedAt);
        this.#complete(entry, doneAt);
      }
      if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    } finally {
      this.#ticking = false;
    }
    this.#deliverDue();
    this.#scheduleDrain();
  }

  /** A message left the send buffer at `doneAt`: lower `bufferedAmount`, apply its fate, put it on the wire. */
  #complete(entry: Queued, doneAt: number): void {
    const { flow, fate, size } = entry;
    flow.sender.drained(size);
    if (flow.closed) return this.#gone(flow, 'messagesDiscarded'); // a bufferedamountlow listener closed it
    const { delayMs, reorderDelayMs } = this.config;
    let at = doneAt + Math.max(0, delayMs + fate.jitterMs);
    if (fate.lost) {
      if (flow.unreliable) {
        this.#count(flow, 'bytesDropped', size);
        return this.#gone(flow, 'messagesDropped');
      }
      this.#count(flow, 'messagesRetransmitted', 1);
      at += 2 * delayMs;
    }
    if (fate.held) at += reorderDelayMs;
    if (flow.ordered) at = flow.lastDeliverAt = Math.max(at, flow.lastDeliverAt);
    let data = entry.data;
    const copy = fate.duplicated && flow.unreliable ? (typeof data === 'string' ? data : data.slice()) : undefined;
    const corrupted = fate.corruptAt >= 0 && size > 0;
    if (corrupted) data = flipBit(data, fate.corruptAt);
    heapPush(this.#flight, { at, order: this.#order++, flow, data, size, copy: false, corrupted });
    if (copy !== undefined) heapPush(this.#flight, { at, order: this.#order++, flow, data: copy, size, copy: true, corrupted: false });
  }

  #scheduleDeliver(): void {
    const first = this.#flight[0];
    if (!first) {
      this.#deliverAction?.unsubscribe();
      this.#deliverAction = undefined;
      return;
    }
    if (this.#deliverAction && this.#deliverAt <= first.at) return;
    this.#deliverAction?.unsubscribe();
    this.#deliverAt = first.at;
    const { scheduler } = this.config;
    this.#deliverAction = scheduler.schedule(() => {
      this.#deliverAction = undefined;
      this.#deliverDue();
    }, Math.max(0, first.at - scheduler.now()));
  }

  /**
   * Fires `message` for everything due by now, in (time, send) order. A message
   * for a receiver that does not exist yet is undeliverable (copies vanish
   * uncounted, as they were never pending); one for a receiver still
   * `'connecting'` waits for {@link release}.
   */
  #deliverDue(): void {
    const limit = this.config.scheduler.now() + TIME_EPSILON;
    while (this.#flight.length && this.#flight[0].at <= limit) {
      const m = heapPop(this.#flight);
      const { flow, size } = m;
      if (flow.closed) continue;
      if (!flow.receiver) {
        if (!m.copy) {
          this.#count(flow, 'bytesUndeliverable', size);
          this.#gone(flow, 'messagesUndeliverable');
        }
      } else if (flow.receiver.channel.readyState === 'connecting') {
        const held = this.#held.get(flow);
        if (held) held.push(m);
        else this.#held.set(flow, [m]);
      } else this.#deliver(m);
    }
    this.#scheduleDeliver();
  }

  /** Counts a message as delivered and fires `message` at its receiver. */
  #deliver(m: InFlight): void {
    const { flow, data, size } = m;
    this.#count(flow, 'messagesDelivered', 1);
    this.#count(flow, 'bytesDelivered', size);
    if (m.copy) this.#count(flow, 'messagesDuplicated', 1);
    else this.#count(flow, 'messagesPending', -1);
    if (m.corrupted) this.#count(flow, 'messagesCorrupted', 1);
    flow.receiver!.receive(typeof data === 'string' ? data : (data.buffer as ArrayBuffer), size);
  }
}
