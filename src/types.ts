/**
 * Structural types for the parts of the W3C WebRTC API the library touches.
 * Anything that has these members works: browsers, node-datachannel's polyfill,
 * @roamhq/wrtc, werift, and the virtual channels in `tallow-rx/testing`.
 */

/** Bytes as sent and received. Always a `Uint8Array` view; never a `DataView` (some stacks drop those). */
export type Bytes = Uint8Array;

/** A listener as accepted by `addEventListener`. */
export type Listener = (event: any) => void;

/** The subset of `RTCDataChannel` that tallow-rx uses. */
export interface DataChannelLike {
  readonly label: string;
  /** The SCTP stream id; `null` (or 65535 in node-datachannel) until the DTLS role is known. */
  readonly id?: number | null;
  readonly readyState: 'connecting' | 'open' | 'closing' | 'closed' | string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: string;
  readonly ordered?: boolean;
  readonly maxRetransmits?: number | null;
  send(data: any): void;
  close(): void;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
}

/** The subset of `RTCPeerConnection` that tallow-rx uses. */
export interface PeerConnectionLike {
  createDataChannel(label: string, init?: { ordered?: boolean; maxRetransmits?: number; negotiated?: boolean; id?: number; protocol?: string }): DataChannelLike;
  getStats?(): PromiseLike<{ forEach(cb: (report: any, key: string) => void): void }>;
  readonly sctp?: { readonly maxMessageSize?: number | null } | null;
  readonly connectionState?: string;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
  close(): void;
}

/** One piece of a file: `data` holds bytes `[offset, offset + data.length)`. */
export interface Chunk {
  /** 0-based position in the transfer. Indexes are dense: 0, 1, 2, … */
  readonly index: number;
  /** Byte offset of `data` in the file. */
  readonly offset: number;
  /** The payload. */
  readonly data: Bytes;
  /** CRC-32 of `data` as sent, when known (set by `decodeFrames`, checked by `verifyHash`). */
  readonly checksum?: number;
}

/** A frame bound for one channel, as emitted by `roundRobin` / `leastBuffered`. */
export interface Routed {
  /** The channel chosen for this frame. */
  readonly channel: DataChannelLike;
  /** The encoded frame. */
  readonly frame: Bytes;
}

/** Chromium's (and libwebrtc's) maximum message size, in bytes. */
export const CHROME_MAX_MESSAGE_SIZE = 262_144;
/** The per-channel send queue ceiling in Chromium; a send beyond it throws `OperationError`. */
export const SEND_QUEUE_LIMIT = 16 * 1024 * 1024;
/** The smallest chunk the adaptive policy ever picks. */
export const MIN_CHUNK_SIZE = 16 * 1024;
