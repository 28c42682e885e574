/**
 * Negotiated data channels for the harness. Environment-neutral (also bundled into the page).
 *
 * Why `negotiated: true, id` and not `ondatachannel` (measured with node-datachannel 0.33.4):
 * - On a connected peer connection a negotiated channel needs no renegotiation and no
 *   DCEP round trip; libdatachannel even reports it `open` synchronously.
 * - Both sides build their channel from their own init, so `ordered`/`maxRetransmits`
 *   read truthfully. Channels that arrive through `ondatachannel` on the polyfill report
 *   `ordered: true` even when the sender made them unordered.
 * - The polyfill reads `id` once, at construction: an in-band channel created before
 *   the connection is up reports `id === 65535` forever. A negotiated id is fixed.
 * - Cost: both sides must create their end BEFORE the other sends on it. Across
 *   processes, libdatachannel treats data on an unknown stream as an error, so the
 *   harness creates both ends before any module gets the channels.
 */

/** Default time allowed for a channel to open. */
export const OPEN_TIMEOUT_MS = 10_000;

/** Resolves when `channel` is open; rejects if it closes first or after `timeoutMs`. */
export function waitForOpen(channel: RTCDataChannel, timeoutMs = OPEN_TIMEOUT_MS): Promise<RTCDataChannel> {
  if (channel.readyState === 'open') return Promise.resolve(channel);
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      channel.removeEventListener('open', onOpen);
      channel.removeEventListener('close', onClose);
      if (error) reject(error);
      else resolve(channel);
    };
    const onOpen = (): void => done();
    const onClose = (): void => done(new Error(`channel ${channel.label} closed before opening`));
    const timer = setTimeout(() => done(new Error(`channel ${channel.label} not open after ${timeoutMs} ms`)), timeoutMs);
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
  });
}

/** Resolves when `channel` has closed (immediately if it already has); rejects after `timeoutMs`. */
export function waitForClose(channel: RTCDataChannel, timeoutMs = OPEN_TIMEOUT_MS): Promise<void> {
  if (channel.readyState === 'closed') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      channel.removeEventListener('close', onClose);
      reject(new Error(`channel ${channel.label} not closed after ${timeoutMs} ms (readyState=${channel.readyState})`));
    }, timeoutMs);
    channel.addEventListener('close', onClose);
  });
}

/**
 * Creates one negotiated channel per id on `pc` (label `ch-<id>`, `binaryType = 'arraybuffer'`).
 *
 * Does not wait for them to open: create the remote ends, then `waitForOpen` both.
 */
export function createNegotiatedChannels(pc: RTCPeerConnection, ids: readonly number[], init: RTCDataChannelInit = {}): RTCDataChannel[] {
  return ids.map((id) => {
    const channel = pc.createDataChannel(`ch-${id}`, { ...init, negotiated: true, id });
    channel.binaryType = 'arraybuffer';
    return channel;
  });
}
