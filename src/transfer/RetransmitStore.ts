/**
 * The sender's retransmit store: every chunk sent and not yet acknowledged, where its last copy went,
 * and the NACKs it has postponed. It decides when a NACK is answered; the sender only re-encodes what
 * it returns.
 *
 * A NACK is served once the chunk's last copy has left this side (its channel's `bufferedAmount` is
 * below the bytes handed to that channel up to and including the copy) and a resend interval,
 * max(`minResendIntervalMs`, 1.5 × RTT), has passed since it was seen leaving: the store looks at a
 * channel's queue whenever it hands it a frame, so on a busy channel that is within a frame of when it
 * left; a copy that left unseen counts from when it was handed over. A NACK that comes sooner (the copy still
 * queued here, or in flight) is remembered and `due()` returns it when its time comes, for a receiver that NACKs
 * a copy only once; until the receiver shows it repeats its NACKs (one comes for a chunk already remembered):
 * then, for the session (`peer`), such NACKs are ignored and the remembered ones dropped, since it asks again
 * and answering a NACK sent before the copy arrived only put duplicates on the link (on a slow path every
 * chunk not yet arrived went twice). A NACK for a chunk not sent yet (read, waiting for a channel) is ignored.
 * An ack drops every chunk it covers, and any NACK remembered for them.
 */
import type { Chunk, DataChannelLike } from '../types';

/** A chunk is resent at most this often by default, ms (1.5 × RTT when that is longer). */
export const MIN_RESEND_INTERVAL_MS = 100;

/**
 * Most copies of one chunk sent again because the receiver NACKed it. A link that loses 64 copies of one chunk
 * in a row carries nothing; a receiver that asks more often is hostile (an outside check NACKed a whole window
 * every 5 ms and acked one byte every 10 s: 238 copies of each chunk in a minute, and no idle timeout).
 */
export const MAX_NACKED_COPIES = 64;

/** Options for {@link RetransmitStore}. */
export interface RetransmitStoreConfig {
  /** Shortest time between copies of one chunk, ms (1.5 × RTT when that is longer). Default 100. */
  readonly minResendIntervalMs?: number;
  /**
   * Bytes handed to each channel so far, shared by every store of one session (the files in flight share the
   * channels, so what has left a channel counts their frames too); the stores add to it. Default: this store's own.
   */
  readonly handed?: Map<DataChannelLike, number>;
  /**
   * What the session knows of its receiver, shared by its stores like `handed`: `repeats` turns true at the first
   * NACK for a chunk whose NACK is already remembered (the receiver repeats its NACKs). Default: this store's own.
   */
  readonly peer?: { repeats: boolean };
}

/** Where and when a chunk's last copy was handed to a channel. */
interface Copy {
  readonly channel: DataChannelLike;
  /** Bytes handed to `channel` up to and including this copy. */
  readonly mark: number;
  readonly at: number;
  /** When the store first saw it gone from `channel`'s queue (undefined: not seen yet). */
  leftAt?: number;
}

export class RetransmitStore {
  readonly #minIntervalMs: number;
  /** Chunks sent and not yet covered by an ack, by index. */
  readonly #chunks = new Map<number, Chunk>();
  /** The last copy of each stored chunk. */
  readonly #copies = new Map<number, Copy>();
  /** Per channel, the copies handed to it not yet seen leaving, oldest first (stale entries are skipped). */
  readonly #queued = new Map<DataChannelLike, Copy[]>();
  /** Bytes handed to each channel so far; minus its bufferedAmount, what has left this side. */
  readonly #handed: Map<DataChannelLike, number>;
  /** Chunks whose resend was returned but not yet handed to a channel. */
  readonly #resending = new Set<number>();
  /** Postponed NACKs, with the time their copy was seen leaving (or handed over, if it left unseen). */
  readonly #postponed = new Map<number, number | undefined>();
  readonly #peer: { repeats: boolean };
  /** How many times each stored chunk was returned for a NACK. */
  readonly #nacked = new Map<number, number>();

  constructor(config: RetransmitStoreConfig = {}) {
    this.#minIntervalMs = config.minResendIntervalMs ?? MIN_RESEND_INTERVAL_MS;
    this.#handed = config.handed ?? new Map();
    this.#peer = config.peer ?? { repeats: false };
  }

  /** Chunks held. */
  get size(): number {
    return this.#chunks.size;
  }

  /** NACKs postponed and not yet served. */
  get postponed(): number {
    return this.#postponed.size;
  }

  /** Keeps a chunk that was just cut until an ack covers it. */
  add(chunk: Chunk): void {
    this.#chunks.set(chunk.index, chunk);
  }

  /** A frame of `bytes` carrying chunk `index` was handed to `channel` at `now` (first copy or resend). */
  handedOff(channel: DataChannelLike, index: number, bytes: number, now: number): void {
    this.#observe(channel, now);
    const mark = (this.#handed.get(channel) ?? 0) + bytes;
    this.#handed.set(channel, mark);
    this.#resending.delete(index);
    if (!this.#chunks.has(index)) return;
    const copy: Copy = { channel, mark, at: now };
    this.#copies.set(index, copy);
    const queued = this.#queued.get(channel);
    if (queued) queued.push(copy);
    else this.#queued.set(channel, [copy]);
  }

  /** The receiver holds `[0, bytes)`: forgets every chunk inside it. */
  ack(bytes: number): void {
    for (const [index, c] of this.#chunks) {
      if (c.offset + c.data.length > bytes) continue;
      this.#chunks.delete(index);
      this.#copies.delete(index);
      this.#postponed.delete(index);
      this.#resending.delete(index);
      this.#nacked.delete(index);
    }
  }

  /** How many times chunk `index` was returned for a NACK (by {@link nack} or {@link due}) while stored. */
  timesNacked(index: number): number {
    return this.#nacked.get(index) ?? 0;
  }

  /** NACKed `indexes` at `now`: the chunks to resend at once; the others are remembered, or ignored (see above). */
  nack(indexes: Iterable<number>, now: number, rttMs: number): Chunk[] {
    const out: Chunk[] = [];
    // One message naming an index twice is one NACK, not a repeat.
    for (const index of new Set(indexes)) {
      if (this.#postponed.has(index)) this.#repeats();
      const copy = this.#copies.get(index);
      // Not sent yet (read, waiting for a channel): nothing of it was lost.
      if (!copy || !this.#chunks.has(index) || this.#resending.has(index)) continue;
      const left = this.#left(index);
      if (left && now - (copy.leftAt ?? copy.at) >= this.#interval(rttMs)) out.push(this.#takeNacked(index));
      // Too soon for that copy: remembered for a receiver that NACKs once; a repeating one asks again.
      else if (!this.#peer.repeats) this.#postponed.set(index, left ? (copy.leftAt ?? copy.at) : undefined);
    }
    return out;
  }

  /** Postponed NACKs due at `now`; call it every half interval while {@link postponed} is above 0. */
  due(now: number, rttMs: number): Chunk[] {
    const out: Chunk[] = [];
    for (const [index, leftAt] of [...this.#postponed]) {
      if (leftAt === undefined) {
        if (this.#left(index)) this.#postponed.set(index, now);
      } else if (now - leftAt >= this.#interval(rttMs)) out.push(this.#takeNacked(index));
    }
    return out;
  }

  /** The receiver repeats its NACKs: what was remembered for it is dropped (it asks again while still missing). */
  #repeats(): void {
    this.#peer.repeats = true;
    this.#postponed.clear();
  }

  /**
   * The ack frontier stopped: the chunk it waits for (the lowest stored one) and the other stored chunks whose
   * last copy went to the same channel (all of them: every one waits behind the stall), lowest first, to resend
   * on other channels; and that channel. They are bounded by the window. Nothing when the frontier chunk is
   * being resent, was never handed to a channel, or its copy is younger than the resend interval.
   */
  frontier(now: number, rttMs: number): { readonly channel?: DataChannelLike; readonly chunks: Chunk[] } {
    // Chunks are stored in index order (a Map keeps insertion order), so the first key is the frontier's.
    const first = this.#chunks.keys().next();
    if (first.done || this.#resending.has(first.value)) return { chunks: [] };
    const copy = this.#copies.get(first.value);
    if (!copy || now - copy.at < this.#interval(rttMs)) return { chunks: [] };
    const same: number[] = [];
    for (const [index, c] of this.#copies) if (c.channel === copy.channel && this.#chunks.has(index) && !this.#resending.has(index)) same.push(index);
    same.sort((a, b) => a - b);
    return { channel: copy.channel, chunks: same.map((index) => this.#take(index)) };
  }

  /**
   * `channel` closed: the chunks whose last copy went to it and are not acknowledged, to resend on the others
   * at once (in reliable mode no NACK would ask for them before `done`, and the window would stay full).
   */
  lostOn(channel: DataChannelLike): Chunk[] {
    const lost: Chunk[] = [];
    for (const [index, copy] of this.#copies) {
      if (copy.channel === channel && this.#chunks.has(index) && !this.#resending.has(index)) lost.push(this.#take(index));
    }
    return lost;
  }

  /** Drops everything (the transfer ended). */
  clear(): void {
    this.#chunks.clear();
    this.#copies.clear();
    this.#queued.clear();
    this.#resending.clear();
    this.#postponed.clear();
    this.#nacked.clear();
  }

  #interval(rttMs: number): number {
    return Math.max(this.#minIntervalMs, 1.5 * rttMs);
  }

  /**
   * Whether the last copy of `index` has left this side, or never will (its channel is closing). A chunk with no
   * copy has not left: nothing of it was sent.
   */
  #left(index: number): boolean {
    const copy = this.#copies.get(index);
    if (!copy) return false;
    const { channel, mark } = copy;
    if (channel.readyState === 'closing' || channel.readyState === 'closed') return true;
    return this.#out(channel) >= mark;
  }

  /** Bytes that have left `channel`'s queue: what was handed to it, less what it still buffers. */
  #out(channel: DataChannelLike): number {
    return (this.#handed.get(channel) ?? 0) - channel.bufferedAmount;
  }

  /** Marks the copies that have left `channel`'s queue by `now` as seen leaving then. */
  #observe(channel: DataChannelLike, now: number): void {
    const queued = this.#queued.get(channel);
    if (!queued?.length) return;
    const out = this.#out(channel);
    let n = 0;
    while (n < queued.length && queued[n].mark <= out) queued[n++].leftAt ??= now;
    if (n) queued.splice(0, n);
  }

  #takeNacked(index: number): Chunk {
    this.#nacked.set(index, (this.#nacked.get(index) ?? 0) + 1);
    return this.#take(index);
  }

  #take(index: number): Chunk {
    this.#postponed.delete(index);
    this.#resending.add(index);
    return this.#chunks.get(index)!;
  }
}
