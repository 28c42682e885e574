/**
 * Creates the channels of a transfer on one or more peer connections ("lanes"):
 *
 * - `tallow-control`: created in band by the sender (DCEP), ordered and
 *   reliable, on lane 0. The receiver picks it up from its `datachannel`
 *   event. In-band creation guarantees the remote channel exists before the
 *   first message arrives; a negotiated channel does not (libdatachannel
 *   resets a stream that receives data before the remote created it).
 * - `tallow-i` for i in 0..channels-1: negotiated, id `idBase + i` (the sender
 *   announces `idBase` in the offer), `ordered: false`, reliable or
 *   `maxRetransmits: 0`, on lane `i % lanes`. The receiver creates them before
 *   it accepts, and the sender sends no frame before `accept`.
 */
import { asyncScheduler, Subscription, type SchedulerLike } from 'rxjs';
import { InvalidConfigError, LimitExceededError } from '../errors';
import { allowListeners } from './allowListeners';
import { MAX_PARALLEL, type Reliability } from '../protocol/control';
import { CHROME_MAX_MESSAGE_SIZE, type DataChannelLike, type PeerConnectionLike } from '../types';

/** Highest data-channel id a transfer may use (Chromium's limit). */
export const MAX_CHANNEL_ID = 1023;
/** Label of the control channel. */
export const CONTROL_LABEL = 'tallow-control';

/** The connections a transfer was given, as lanes: one connection, or several in order. */
export const lanesOf = (c: PeerConnectionLike | readonly PeerConnectionLike[]): readonly PeerConnectionLike[] => (Array.isArray(c) ? c : [c as PeerConnectionLike]);

/** Creates the control channel on lane 0 (sender side, in band). */
export function createControlChannel(pc: PeerConnectionLike): DataChannelLike {
  const ch = pc.createDataChannel(CONTROL_LABEL, { ordered: true });
  ch.binaryType = 'arraybuffer';
  return ch;
}

/** Negotiated ids are handed out in blocks of 16 from this id up to MAX_CHANNEL_ID. */
export const ID_BLOCK_FIRST = 512;
const ID_BLOCK = 16;
/** Blocks in use per peer connection (released once every channel of the block closed). */
const usedBlocks = new WeakMap<object, Set<number>>();
/** Where the next search starts, per peer connection, so consecutive transfers use different ids. */
const nextBlock = new WeakMap<object, number>();

/**
 * The parity of the SCTP stream ids this side's in-band channels take (RFC 8832: the DTLS client even, the
 * server odd), from the `a=setup` attributes of the connection's descriptions: `active` (or `actpass` against a
 * `passive` answer) is the client, `passive` (or `actpass` against an `active` answer) the server. Undefined
 * when the descriptions do not say.
 */
export function dtlsParity(pc: PeerConnectionLike | undefined): 0 | 1 | undefined {
  const setupOf = (d: unknown): string | undefined => /a=setup:(active|passive|actpass)/.exec((d as { sdp?: string } | null | undefined)?.sdp ?? '')?.[1];
  const peer = pc as { localDescription?: unknown; remoteDescription?: unknown } | undefined;
  const local = setupOf(peer?.localDescription);
  const remote = setupOf(peer?.remoteDescription);
  if (local === 'active' || (local === 'actpass' && remote === 'passive')) return 0;
  if (local === 'passive' || (local === 'actpass' && remote === 'active')) return 1;
  return undefined;
}

/**
 * Picks a block of negotiated ids that no running transfer of this process
 * uses on any of `lanes`, rotating so that a transfer that starts right after
 * another never reuses ids whose channels are still closing. Returns the first
 * id; call the returned `release` once the channels are closed.
 */
export function allocateIdBase(lanes: readonly PeerConnectionLike[], preferred?: number, streamId?: number | null): { idBase: number; release: () => void } {
  const all = Math.floor((MAX_CHANNEL_ID + 1 - ID_BLOCK_FIRST) / ID_BLOCK);
  // Two peers may send to each other at once on one connection, each allocating here without seeing the
  // other. Their in-band control channels have stream ids of opposite parity (SCTP: the DTLS client takes
  // even ids, the server odd), so the parity picks disjoint halves of the blocks. Unknown: all of them, from
  // the top down, away from where either half starts.
  // A channel's id is often not known before it opens (node-datachannel reads null or 65535): the DTLS role
  // from the connection's descriptions gives the same parity.
  const parity = typeof streamId === 'number' && streamId >= 0 && streamId < 65535 ? streamId % 2 : dtlsParity(lanes[0]);
  const firstBlock = parity === 1 ? all / 2 : 0;
  const blocks = parity === undefined ? all : all / 2;
  const sets = lanes.map((pc) => {
    let set = usedBlocks.get(pc);
    if (!set) usedBlocks.set(pc, (set = new Set()));
    return set;
  });
  let block: number | undefined;
  if (preferred !== undefined) {
    block = -1 - preferred; // a caller-chosen base is not tracked as a block
  } else {
    // The block at position `p` of the search order.
    const blockAt = (p: number): number => (parity === undefined ? blocks - 1 - p : firstBlock + p);
    const start = nextBlock.get(lanes[0]) ?? 0;
    let position = -1;
    for (let k = 0; k < blocks && position < 0; k++) {
      const p = (start + k) % blocks;
      if (sets.every((set) => !set.has(blockAt(p)))) position = p;
    }
    // A resource limit, not a bad option (it was InvalidConfigError): each session in flight holds one block.
    if (position < 0) throw new LimitExceededError('sessions at once on this connection', blocks + 1, blocks);
    block = blockAt(position);
    nextBlock.set(lanes[0], (position + 1) % blocks);
    for (const set of sets) set.add(block);
  }
  const idBase = block < 0 ? preferred! : ID_BLOCK_FIRST + block * ID_BLOCK;
  let released = false;
  return {
    idBase,
    release: () => {
      if (released || block! < 0) return;
      released = true;
      for (const set of sets) set.delete(block!);
    },
  };
}

/** Calls `done` once every channel has closed (or at once if all are). */
export function whenAllClosed(channels: readonly DataChannelLike[], done: () => void): void {
  let open = 0;
  const check = () => {
    if (--open === 0) done();
  };
  for (const ch of channels) {
    if (ch.readyState === 'closed') continue;
    open++;
    const onClose = () => {
      ch.removeEventListener('close', onClose);
      check();
    };
    ch.addEventListener('close', onClose);
  }
  if (open === 0) done();
}

/** Creates the data channels, spread over the lanes; none on a lane that `skip` names (channel `i` keeps its id and label). */
export function createDataChannels(
  lanes: readonly PeerConnectionLike[],
  count: number,
  laneCount: number,
  reliability: Reliability,
  idBase: number,
  skip: (pc: PeerConnectionLike) => boolean = () => false,
): DataChannelLike[] {
  if (laneCount > lanes.length) throw new InvalidConfigError(`transfer needs ${laneCount} lanes but ${lanes.length} connections were given`, { laneCount, given: lanes.length });
  if (!Number.isInteger(idBase) || idBase < 0 || idBase + count - 1 > MAX_CHANNEL_ID) {
    throw new InvalidConfigError(`data-channel ids ${idBase}..${idBase + count - 1} are outside 0..${MAX_CHANNEL_ID}`, { idBase, count });
  }
  const out: DataChannelLike[] = [];
  for (let i = 0; i < count; i++) {
    const init = reliability === 'unreliable'
      ? { negotiated: true, id: idBase + i, ordered: false, maxRetransmits: 0 }
      : { negotiated: true, id: idBase + i, ordered: false };
    const pc = lanes[i % laneCount];
    if (skip(pc)) continue;
    const ch = pc.createDataChannel(`tallow-${i}`, init);
    ch.binaryType = 'arraybuffer';
    out.push(ch);
  }
  // A few listeners per type (bufferedamountlow, open, close) for each file in flight, at most MAX_PARALLEL files.
  allowListeners(out, 4 * MAX_PARALLEL);
  return out;
}

/** Label prefix of the data channels of an in-band lane (`tallow-lane-<lane>-<i>`). */
export const LANE_CHANNEL_PREFIX = 'tallow-lane';

/** Whether `ch` is a data channel of an in-band lane (by its label). */
export const isLaneChannel = (ch: Pick<DataChannelLike, 'label'>): boolean => ch.label.startsWith(LANE_CHANNEL_PREFIX);

/**
 * The data channels of a lane opened in band: created in band (DCEP) by the sender, so the receiver picks them
 * up from the lane's `datachannel` event; no ids to agree on. Same ordering and reliability as the others.
 */
export function createLaneChannels(pc: PeerConnectionLike, lane: number, count: number, reliability: Reliability): DataChannelLike[] {
  const init = reliability === 'unreliable' ? { ordered: false, maxRetransmits: 0 } : { ordered: false };
  const out = Array.from({ length: count }, (_, i) => {
    const ch = pc.createDataChannel(`${LANE_CHANNEL_PREFIX}-${lane}-${i}`, init);
    ch.binaryType = 'arraybuffer';
    return ch;
  });
  // A few listeners per type (bufferedamountlow, open, close) for each file in flight, at most MAX_PARALLEL files.
  allowListeners(out, 4 * MAX_PARALLEL);
  return out;
}

/**
 * The largest message every lane accepts: the smallest `sctp.maxMessageSize`
 * (0 means unlimited in the spec), capped at `cap` (Chrome's 256 KiB unless the
 * caller knows both peers allow more).
 */
export function negotiatedMaxMessageSize(lanes: readonly PeerConnectionLike[], cap = CHROME_MAX_MESSAGE_SIZE): number {
  let size = cap;
  for (const pc of lanes) {
    const m = pc.sctp?.maxMessageSize;
    if (typeof m === 'number' && m > 0 && Number.isFinite(m)) size = Math.min(size, m);
  }
  return size;
}

/** Closes channels, ignoring ones that are already closed. */
export function closeAll(channels: readonly (DataChannelLike | undefined)[]): void {
  for (const ch of channels) {
    try {
      if (ch && ch.readyState !== 'closed' && ch.readyState !== 'closing') ch.close();
    } catch {
      // already gone
    }
  }
}

/** How often {@link closeWhenDrained} looks at `bufferedAmount`, ms. */
export const DRAIN_POLL_MS = 10;
/** The default {@link CloseWhenDrainedConfig.minWaitMs} (the fixed delay the transfers used to close after). */
export const DRAIN_MIN_WAIT_MS = 100;
/** The default {@link CloseWhenDrainedConfig.maxWaitMs}. */
export const DRAIN_MAX_WAIT_MS = 5000;

/** Options for {@link closeWhenDrained}. */
export interface CloseWhenDrainedConfig {
  /**
   * Never close before this long, even if drained, ms: an empty send buffer only
   * means the bytes left this end, and a peer that sees the close before it has
   * handled the last message (a `cancel`) misreads it as a dropped channel
   * (seen on node-datachannel and on a loaded virtual link with 10 ms). Default `100`.
   */
  readonly minWaitMs?: number;
  /** Close a channel after this long even if its send buffer never drained, ms. Default `5000`. */
  readonly maxWaitMs?: number;
  /** Drives the polling. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Closes each channel once its send buffer has drained (`bufferedAmount` is 0)
 * and `minWaitMs` has passed, so that messages just sent (a `cancel`, a
 * `complete`) reach the peer before the close; after `maxWaitMs` it closes
 * whatever is still open. It looks first at `minWaitMs`, then every
 * {@link DRAIN_POLL_MS} ms, through `scheduler` (never synchronously), and
 * leaves `bufferedAmountLowThreshold` alone. Channels already closed or closing
 * are skipped.
 *
 * ```
 * bufferedAmount:  3000--2000--1000--0
 * close:           ------------------c     (within one poll of 0, not before minWaitMs)
 * stuck channel:   ------------------------ maxWaitMs c
 * ```
 *
 * ## Example
 * ```ts
 * link.send({ t: 'cancel', id, reason: 'cancelled by sender' });
 * closeWhenDrained([...data, control]);
 * ```
 *
 * @param channels the channels to close (`undefined` entries are skipped)
 * @param config see {@link CloseWhenDrainedConfig}
 * @return a Subscription that closes by itself once every channel is closed.
 * Unsubscribing earlier stops the wait and leaves the remaining channels open
 * (call `closeAll` to close them at once). While a channel is pending, the
 * timer keeps Node's event loop alive, for at most `maxWaitMs`.
 */
export function closeWhenDrained(channels: readonly (DataChannelLike | undefined)[], config: CloseWhenDrainedConfig = {}): Subscription {
  const minWaitMs = config.minWaitMs ?? DRAIN_MIN_WAIT_MS;
  const maxWaitMs = config.maxWaitMs ?? DRAIN_MAX_WAIT_MS;
  if (!(minWaitMs >= 0)) throw new InvalidConfigError(`minWaitMs must be >= 0, got ${minWaitMs}`, { minWaitMs });
  if (!(maxWaitMs >= 0)) throw new InvalidConfigError(`maxWaitMs must be >= 0, got ${maxWaitMs}`, { maxWaitMs });
  const scheduler = config.scheduler ?? asyncScheduler;
  const deadline = scheduler.now() + maxWaitMs;
  const isShut = (ch: DataChannelLike) => ch.readyState === 'closed' || ch.readyState === 'closing';
  // Channels not closed yet.
  let pending = channels.filter((ch): ch is DataChannelLike => ch !== undefined && !isShut(ch));
  // Holds the armed timer; closed once every channel is.
  const done = new Subscription();

  const poll = (delay: number) => {
    // A fresh action per look, unsubscribed once it has run (as RxJS's executeSchedule does).
    done.add(
      scheduler.schedule(function () {
        check();
        this.unsubscribe();
      }, delay),
    );
  };
  const check = () => {
    const late = scheduler.now() >= deadline;
    pending = pending.filter((ch) => {
      if (isShut(ch)) return false;
      if (!late && ch.bufferedAmount > 0) return true;
      closeAll([ch]);
      return false;
    });
    if (pending.length) poll(Math.min(DRAIN_POLL_MS, deadline - scheduler.now()));
    else done.unsubscribe();
  };

  if (pending.length) poll(Math.min(minWaitMs, maxWaitMs));
  else done.unsubscribe();
  return done;
}

/** Options for {@link closeAfterPeer}. */
export interface CloseAfterPeerConfig {
  /** Close anyway after this long, ms. Default `5000`. */
  readonly maxWaitMs?: number;
  /** Drives the timeout. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Closes `channels` once the peer has closed the first one (the control channel), or after
 * `maxWaitMs`. The side that sent the last message of a transfer (`complete`, `cancel`, `error`)
 * uses it: a close of its own can overtake that message. With libdatachannel, a control channel
 * closed right after its send buffer drained lost its last `ack` and `complete` in 6 of 30 transfers
 * while the other direction carried data. The peer closes when the message arrives, so the message
 * is known to be there.
 *
 * @return a Subscription that closes by itself once the channels are closed; unsubscribing stops the
 * wait and leaves the channels open
 */
export function closeAfterPeer(channels: readonly (DataChannelLike | undefined)[], config: CloseAfterPeerConfig = {}): Subscription {
  const scheduler = config.scheduler ?? asyncScheduler;
  const maxWaitMs = config.maxWaitMs ?? DRAIN_MAX_WAIT_MS;
  if (!(maxWaitMs >= 0)) throw new InvalidConfigError(`maxWaitMs must be >= 0, got ${maxWaitMs}`, { maxWaitMs });
  const first = channels.find((ch): ch is DataChannelLike => ch !== undefined);
  const done = new Subscription();
  const finish = () => {
    closeAll(channels);
    done.unsubscribe();
  };
  if (!first || first.readyState === 'closed') {
    finish();
    return done;
  }
  const onClose = () => finish();
  first.addEventListener('close', onClose);
  done.add(() => first.removeEventListener('close', onClose));
  done.add(scheduler.schedule(finish, maxWaitMs));
  return done;
}

/**
 * How a side closes a transfer's channels when it ends other than by success. When it had the last word
 * (it sent `cancel` or `error`), it waits for the peer to close on receipt ({@link closeAfterPeer}, 5 s at
 * most): closing at once can overtake that message (libdatachannel lost a `cancel` so while the association
 * was busy). When the peer had the last word, or broke the protocol, it closes once its own send buffer has
 * drained ({@link closeWhenDrained}).
 */
export function closeTransfer(channels: readonly (DataChannelLike | undefined)[], hadLastWord: boolean, scheduler: SchedulerLike = asyncScheduler): Subscription {
  return hadLastWord ? closeAfterPeer(channels, { scheduler }) : closeWhenDrained(channels, { scheduler });
}
