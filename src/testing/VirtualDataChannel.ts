/**
 * One end of an in-memory data channel. It behaves like a browser's
 * `RTCDataChannel` (Chrome's limits and error types) and runs on an RxJS
 * scheduler, so strategies can be marble-tested. Create pairs with
 * `createVirtualLink().createChannel()`.
 */
import type { DataChannelLike } from '../types';
import { domException } from './domException';
import { VirtualEventTarget, type VirtualEvent } from './VirtualEventTarget';
import { emptyTrafficStats, type VirtualChannelStats } from './VirtualStats';

/** The states of a channel, as in `RTCDataChannelState`. */
export type VirtualChannelState = 'connecting' | 'open' | 'closing' | 'closed';

/** Options of one channel pair, the subset of `RTCDataChannelInit` that is modelled. */
export interface VirtualChannelInit {
  /** Deliver in send order. Default `true`. */
  readonly ordered?: boolean;
  /** Retransmissions allowed; `null`/absent means fully reliable. Default `null`. */
  readonly maxRetransmits?: number | null;
  /** Sub-protocol name, reported as-is. Default `''`. */
  readonly protocol?: string;
}

/** What a channel asks of its link. Internal plumbing, not for users. */
export interface VirtualChannelWire {
  readonly maxMessageSize: number;
  readonly sendQueueLimit: number;
  /** Hands a validated, copied message to the link, which counts it; `bufferedAmount` already includes it. */
  transmit(data: string | Uint8Array, size: number): void;
  /** Starts closing the channel pair. */
  close(): void;
}

/** What the link may do to a channel. Internal plumbing, not for users. */
export interface VirtualChannelControl {
  readonly channel: VirtualDataChannel;
  readonly stats: VirtualChannelStats;
  setState(state: VirtualChannelState): void;
  /** Lowers `bufferedAmount` by `bytes`; fires `bufferedamountlow` if it crossed the threshold downward. */
  drained(bytes: number): void;
  /** Fires a `message` event carrying `data`. */
  receive(data: string | ArrayBuffer, size: number): void;
  dispatch(event: VirtualEvent): void;
}

/** Everything needed to construct a channel. Internal plumbing, not for users. */
export interface VirtualChannelSetup {
  readonly label: string;
  readonly id: number;
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  readonly protocol: string;
  /** Created with `negotiated: true` (both endpoints create it themselves). Default `false`. */
  readonly negotiated?: boolean;
  readonly connect: (control: VirtualChannelControl) => VirtualChannelWire;
}

type Handler = ((event: any) => void) | null;

/** UTF-8 length of a string, as `bufferedAmount` counts it (lone surrogates become U+FFFD, 3 bytes). */
const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
};

/** Size in bytes of a payload `send()` accepts, or -1 for an unsupported type. */
const sizeOf = (data: unknown): number => {
  if (typeof data === 'string') return utf8Length(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return -1;
};

/** A private copy of a binary payload, in an exactly-sized buffer. */
const copyBytes = (data: ArrayBuffer | ArrayBufferView): Uint8Array =>
  data instanceof ArrayBuffer
    ? new Uint8Array(data.slice(0))
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();

/**
 * An in-memory `RTCDataChannel` look-alike. It implements {@link DataChannelLike}
 * and runs on the link's scheduler: `open`, `message`, `bufferedamountlow` and
 * `close` fire at modelled times.
 *
 * ```
 * local.send(m)   --m------------------      bufferedAmount rises by |m|
 * drain (|m|/bw)  ----d----------------      bufferedAmount falls, bufferedamountlow on crossing
 * remote message  ----d--delayMs--m----      (± jitterMs, + lossRate/reorder holds)
 * ```
 *
 * `send()` validates before it mutates: a channel that is not open throws
 * `InvalidStateError`; a message above `maxMessageSize` throws `TypeError`
 * (Chrome's behaviour); a message that would push `bufferedAmount` above the
 * send queue limit throws `OperationError` ("send queue is full"). In every
 * case nothing is queued and `bufferedAmount` is unchanged. The payload is
 * copied, so the caller may reuse its buffer at once.
 *
 * ## Example
 * ```ts
 * import { createVirtualLink } from 'tallow-rx/testing';
 * const [local, remote] = createVirtualLink().createChannel('data');
 * remote.onmessage = (e) => console.log(new Uint8Array(e.data));
 * local.onopen = () => local.send(new Uint8Array([1, 2, 3]));
 * ```
 *
 * @see createVirtualLink
 */
export class VirtualDataChannel extends VirtualEventTarget implements DataChannelLike {
  readonly label: string;
  /** Stream id, the same at both ends of the pair. */
  readonly id: number;
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  /** Not modelled: always `null`. */
  readonly maxPacketLifeTime: number | null = null;
  readonly protocol: string;
  /** `true` for a channel created with `negotiated: true` and an `id` (see `VirtualPeer.createDataChannel`). */
  readonly negotiated: boolean;
  /** The largest message `send()` accepts, in bytes (from the link config). */
  readonly maxMessageSize: number;
  /** Fires `bufferedamountlow` when `bufferedAmount` falls from above this value to at most it. Default 0. */
  bufferedAmountLowThreshold = 0;

  onopen: Handler = null;
  onmessage: Handler = null;
  onbufferedamountlow: Handler = null;
  onclosing: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;

  /** Current state. */
  #state: VirtualChannelState = 'connecting';
  /** Bytes accepted by `send()` and not yet drained onto the link. */
  #buffered = 0;
  /** Only `'arraybuffer'` is supported. */
  #binaryType = 'arraybuffer';
  /** Counters, updated by the link. */
  readonly #stats: VirtualChannelStats = { ...emptyTrafficStats(), messagesReceived: 0, bytesReceived: 0 };
  /** The link side. */
  readonly #wire: VirtualChannelWire;

  /** Use `createVirtualLink().createChannel()`; this constructor is plumbing. */
  constructor(setup: VirtualChannelSetup) {
    super();
    this.label = setup.label;
    this.id = setup.id;
    this.ordered = setup.ordered;
    this.maxRetransmits = setup.maxRetransmits;
    this.protocol = setup.protocol;
    this.negotiated = setup.negotiated ?? false;
    const stats = this.#stats;
    this.#wire = setup.connect({
      channel: this,
      stats,
      setState: (state) => void (this.#state = state),
      drained: (bytes) => {
        const before = this.#buffered;
        this.#buffered = Math.max(0, before - bytes);
        const threshold = this.bufferedAmountLowThreshold;
        if (before > threshold && this.#buffered <= threshold && this.#state === 'open') {
          this.dispatch({ type: 'bufferedamountlow', target: this });
        }
      },
      receive: (data, size) => {
        stats.messagesReceived++;
        stats.bytesReceived += size;
        this.dispatch({ type: 'message', data, target: this, currentTarget: this });
      },
      dispatch: (event) => this.dispatch(event),
    });
    this.maxMessageSize = this.#wire.maxMessageSize;
  }

  /** `'connecting'`, then `'open'`, `'closing'` and `'closed'`. */
  get readyState(): VirtualChannelState {
    return this.#state;
  }

  /** Bytes queued by `send()` that have not yet drained onto the link. Frozen once the channel closes. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Always `'arraybuffer'`. Setting `'blob'` throws `NotSupportedError` (as @roamhq/wrtc does); other values throw `SyntaxError`. */
  get binaryType(): string {
    return this.#binaryType;
  }

  set binaryType(value: string) {
    if (value === 'arraybuffer') return;
    if (value === 'blob') throw domException("binaryType 'blob' is not supported by VirtualDataChannel", 'NotSupportedError');
    throw domException(`binaryType must be 'arraybuffer' or 'blob', got '${String(value)}'`, 'SyntaxError');
  }

  /** A snapshot of this channel's counters: what it sent (sender's view) and received. */
  get stats(): VirtualChannelStats {
    return { ...this.#stats };
  }

  /**
   * Queues a message: a string (delivered as a string), an `ArrayBuffer` or any
   * `ArrayBufferView` (delivered as an `ArrayBuffer`). The bytes are copied.
   *
   * @param data The payload.
   * @throws DOMException `InvalidStateError` unless open; `TypeError` if larger than
   * `maxMessageSize` or of another type; DOMException `OperationError` if the send
   * queue would overflow. Nothing changes when it throws.
   */
  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#state !== 'open') throw domException("RTCDataChannel.readyState is not 'open'", 'InvalidStateError');
    const size = sizeOf(data);
    if (size < 0) throw new TypeError('send() accepts a string, an ArrayBuffer or an ArrayBufferView');
    const wire = this.#wire;
    if (size > wire.maxMessageSize) {
      throw new TypeError(`Message size (${size}) is larger than max-message-size (${wire.maxMessageSize})`);
    }
    if (this.#buffered + size > wire.sendQueueLimit) throw domException('send queue is full', 'OperationError');
    const payload = typeof data === 'string' ? data : copyBytes(data);
    this.#buffered += size;
    wire.transmit(payload, size);
  }

  /** Closes both ends: `closing` now, `closed` and `close` events one `delayMs` later. Idempotent. */
  close(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#wire.close();
  }
}
