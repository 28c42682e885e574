/**
 * Creates the channels of a transfer on one or more peer connections ("lanes").
 * All channels are negotiated out of band (`negotiated: true` with fixed ids),
 * so both sides create the same set without waiting for `datachannel` events:
 *
 * - `tallow-control`: id `base`, ordered and reliable, on lane 0;
 * - `tallow-i` for i in 0..channels-1: id `base + 1 + i`, `ordered: false`,
 *   reliable or `maxRetransmits: 0`, on lane `i % lanes`.
 */
import { InvalidConfigError } from '../errors';
import type { Reliability } from '../protocol/control';
import { CHROME_MAX_MESSAGE_SIZE, type DataChannelLike, type PeerConnectionLike } from '../types';

/** Default first negotiated id. Chromium allows ids up to 1023; stay clear of in-band ids counted up from 0. */
export const DEFAULT_CHANNEL_ID_BASE = 900;
/** Label of the control channel. */
export const CONTROL_LABEL = 'tallow-control';

/** Creates the control channel on lane 0. */
export function createControlChannel(pc: PeerConnectionLike, idBase = DEFAULT_CHANNEL_ID_BASE): DataChannelLike {
  const ch = pc.createDataChannel(CONTROL_LABEL, { negotiated: true, id: idBase, ordered: true });
  ch.binaryType = 'arraybuffer';
  return ch;
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
  const out: DataChannelLike[] = [];
  for (let i = 0; i < count; i++) {
    const init = reliability === 'unreliable'
      ? { negotiated: true, id: idBase + 1 + i, ordered: false, maxRetransmits: 0 }
      : { negotiated: true, id: idBase + 1 + i, ordered: false };
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
