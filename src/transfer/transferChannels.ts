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

/** Default first negotiated data-channel id. Chromium allows ids up to 1023; stay clear of in-band ids counted up from 0. */
export const DEFAULT_CHANNEL_ID_BASE = 900;
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
  idBase = DEFAULT_CHANNEL_ID_BASE,
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
