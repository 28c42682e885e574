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
import { Observable } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Reliability } from '../protocol/control';
import { CHROME_MAX_MESSAGE_SIZE, type DataChannelLike, type PeerConnectionLike } from '../types';

/** Highest data-channel id a transfer may use (Chromium's limit). */
export const MAX_CHANNEL_ID = 1023;
/** Label of the control channel. */
export const CONTROL_LABEL = 'tallow-control';

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
 * Picks a block of negotiated ids that no running transfer of this process
 * uses on any of `lanes`, rotating so that a transfer that starts right after
 * another never reuses ids whose channels are still closing. Returns the first
 * id; call the returned `release` once the channels are closed.
 */
export function allocateIdBase(lanes: readonly PeerConnectionLike[], preferred?: number, streamId?: number | null): { idBase: number; release: () => void } {
  const all = Math.floor((MAX_CHANNEL_ID + 1 - ID_BLOCK_FIRST) / ID_BLOCK);
  // Two peers may send to each other at once on one connection, each allocating here without seeing the
  // other. Their in-band control channels have stream ids of opposite parity (SCTP: the DTLS client takes
  // even ids, the server odd), so the parity picks disjoint halves of the blocks. Unknown: use all of them.
  const parity = typeof streamId === 'number' && streamId >= 0 && streamId < 65535 ? streamId % 2 : undefined;
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
    const start = nextBlock.get(lanes[0]) ?? 0;
    for (let k = 0; k < blocks; k++) {
      const b = firstBlock + ((start + k) % blocks);
      if (sets.every((set) => !set.has(b))) {
        block = b;
        break;
      }
    }
    if (block === undefined) throw new InvalidConfigError(`all ${blocks} blocks of data-channel ids are in use on this connection`, { blocks, parity });
    nextBlock.set(lanes[0], (block - firstBlock + 1) % blocks);
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

/** Control channels already taken by a `receiveFile` subscription. */
const claimed = new WeakSet<object>();

/**
 * Emits each new `tallow-control` channel the peer opens on `pc`, once: a
 * channel claimed by one subscriber is never handed to another.
 */
export function incomingControlChannels(pc: PeerConnectionLike): Observable<DataChannelLike> {
  return new Observable<DataChannelLike>((subscriber) => {
    const onChannel = (ev: { channel?: DataChannelLike }) => {
      const ch = ev?.channel;
      if (!ch || ch.label !== CONTROL_LABEL || claimed.has(ch)) return;
      claimed.add(ch);
      ch.binaryType = 'arraybuffer';
      subscriber.next(ch);
    };
    pc.addEventListener('datachannel', onChannel);
    return () => pc.removeEventListener('datachannel', onChannel);
  });
}

/** Creates the data channels, spread over the lanes. */
export function createDataChannels(
  lanes: readonly PeerConnectionLike[],
  count: number,
  laneCount: number,
  reliability: Reliability,
  idBase: number,
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
    const ch = lanes[i % laneCount].createDataChannel(`tallow-${i}`, init);
    ch.binaryType = 'arraybuffer';
    out.push(ch);
  }
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

/**
 * Closes channels after `delayMs`, so a message just sent (a `cancel`, a
 * `complete`) leaves before the close. The timer does not keep Node alive.
 */
export function closeSoon(channels: readonly (DataChannelLike | undefined)[], delayMs = 100): void {
  const t: any = setTimeout(() => closeAll(channels), delayMs);
  t?.unref?.();
}
