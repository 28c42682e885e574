/**
 * The page's side of a data channel that lives in the channel worker (src/channels/ChannelWorker.ts): a
 * `DataChannelLike` whose `send()` hands a copy of the bytes to the worker, and whose events are the
 * worker's relay of the real channel's.
 *
 * `bufferedAmount` is derived, not mirrored: the bytes handed to the worker that it has not yet passed to
 * the channel's `send()`, plus the channel's own `bufferedAmount` as the worker last reported it. The
 * worker reports after each `send()` and on each `bufferedamountlow`, and this side fires
 * `bufferedamountlow` when the sum falls from above the threshold to at most it, as a channel does.
 */
import type { DataChannelLike, Listener } from '../types';

/** What a {@link WorkerChannel} asks of its worker. */
export interface ChannelWorkerPort {
  post(message: Record<string, unknown>, transfer?: Transferable[]): void;
  /**
   * A buffer of at least `bytes` that the worker hands back after `send()` (the channel worker's pool), or
   * `undefined` to copy into a new one.
   */
  take?(bytes: number): ArrayBuffer | undefined;
}

/** What the real channel was when it was handed over. */
export interface WorkerChannelInit {
  readonly label: string;
  readonly id: number | null;
  readonly readyState: string;
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  readonly maxPacketLifeTime: number | null;
  readonly protocol: string;
  readonly negotiated: boolean;
  readonly bufferedAmountLowThreshold: number;
}

const utf8 = /* @__PURE__ */ new TextEncoder();
const utf8Bytes = (s: string): number => utf8.encode(s).byteLength;

/** What goes to the worker for one `send()`: a transferable copy, and its size (what `bufferedAmount` counts). */
interface Payload {
  readonly data: unknown;
  readonly bytes: number;
  readonly transfer: Transferable[];
  /** Set when `data` is a pooled buffer: its first `length` bytes are the message, and the worker hands it back. */
  readonly length?: number;
}

/**
 * Binary messages of at least this many bytes are copied into a pooled buffer that the worker hands back, not
 * into a new one: in this Chromium, allocating a 256 KiB buffer per frame (`slice()`) cost the sending page
 * more than the copy itself (docs/benchmarks.md, "Data channels in a worker").
 */
export const POOLED_SEND_MIN_BYTES = 64 * 1024;

/** A copy of `bytes` in a buffer from `take` (handed back by the worker), else in a new one. */
function copyOf(bytes: Uint8Array, take: ChannelWorkerPort['take']): Payload {
  const pooled = bytes.byteLength >= POOLED_SEND_MIN_BYTES ? take?.(bytes.byteLength) : undefined;
  if (!pooled) {
    const copy = bytes.slice().buffer;
    return { data: copy, bytes: copy.byteLength, transfer: [copy] };
  }
  new Uint8Array(pooled).set(bytes);
  return { data: pooled, bytes: bytes.byteLength, transfer: [pooled], length: bytes.byteLength };
}

function payloadOf(data: unknown, take: ChannelWorkerPort['take']): Payload {
  if (typeof data === 'string') return { data, bytes: utf8Bytes(data), transfer: [] };
  if (data instanceof ArrayBuffer) return copyOf(new Uint8Array(data), take);
  if (ArrayBuffer.isView(data)) return copyOf(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), take);
  if (typeof Blob === 'function' && data instanceof Blob) return { data, bytes: data.size, transfer: [] };
  throw new TypeError('send() takes a string, an ArrayBuffer, an ArrayBufferView or a Blob');
}

/** A data channel run by the channel worker, seen from the page. */
export class WorkerChannel implements DataChannelLike {
  readonly label: string;
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  readonly maxPacketLifeTime: number | null;
  readonly protocol: string;
  readonly negotiated: boolean;
  /** Always `'arraybuffer'`: binary messages arrive as ArrayBuffers whatever is set. */
  binaryType = 'arraybuffer';
  private sid: number | null;
  private state: string;
  /** Bytes handed to the worker that it has not yet passed to the channel. */
  private queued = 0;
  /** The channel's own `bufferedAmount`, as last reported. */
  private native = 0;
  private threshold: number;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Event handler properties, as on `RTCDataChannel`; called after the listeners. */
  onopen: Listener | null = null;
  onmessage: Listener | null = null;
  onbufferedamountlow: Listener | null = null;
  onerror: Listener | null = null;
  onclose: Listener | null = null;

  constructor(
    private readonly port: ChannelWorkerPort,
    /** The id the worker knows the channel by. */
    readonly key: number,
    init: WorkerChannelInit,
  ) {
    this.label = init.label;
    this.sid = init.id;
    this.state = init.readyState;
    this.ordered = init.ordered;
    this.maxRetransmits = init.maxRetransmits;
    this.maxPacketLifeTime = init.maxPacketLifeTime;
    this.protocol = init.protocol;
    this.negotiated = init.negotiated;
    this.threshold = init.bufferedAmountLowThreshold;
  }

  get id(): number | null {
    return this.sid;
  }

  get readyState(): string {
    return this.state;
  }

  get bufferedAmount(): number {
    return this.queued + this.native;
  }

  get bufferedAmountLowThreshold(): number {
    return this.threshold;
  }

  set bufferedAmountLowThreshold(value: number) {
    this.threshold = value;
    if (this.state !== 'closed') this.port.post({ t: 'threshold', id: this.key, value });
  }

  /** Throws `InvalidStateError` unless open, as a channel does; else hands a copy of `data` to the worker. */
  send(data: unknown): void {
    if (this.state !== 'open') throw new DOMException(`RTCDataChannel.readyState is '${this.state}', not 'open'`, 'InvalidStateError');
    const p = payloadOf(data, this.port.take);
    this.queued += p.bytes;
    this.port.post({ t: 'send', id: this.key, data: p.data, bytes: p.bytes, ...(p.length !== undefined && { length: p.length }) }, p.transfer);
  }

  close(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.port.post({ t: 'close', id: this.key });
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  /** The worker's channel opened. */
  opened(sid: number | null): void {
    if (sid !== null && sid !== undefined) this.sid = sid;
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.dispatch({ type: 'open' });
  }

  /** A message arrived on the worker's channel. */
  received(data: unknown): void {
    if (this.state === 'closed') return;
    this.dispatch({ type: 'message', data });
  }

  /** The worker passed `sent` more bytes to the channel, whose `bufferedAmount` is now `buffered`. */
  reported(sent: number, buffered: number): void {
    const before = this.bufferedAmount;
    this.queued = Math.max(0, this.queued - sent);
    this.native = buffered;
    if (before > this.threshold && this.bufferedAmount <= this.threshold && this.state === 'open') this.dispatch({ type: 'bufferedamountlow' });
  }

  /** The channel failed: an `error` event, as an `RTCErrorEvent` carries it. */
  failed(name: string, message: string): void {
    const error = Object.assign(new Error(message), { name });
    this.dispatch({ type: 'error', error });
  }

  /** The worker's channel closed (or the worker is gone): nothing more will come. */
  closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queued = 0;
    this.native = 0;
    this.dispatch({ type: 'close' });
    this.listeners.clear();
    this.onopen = this.onmessage = this.onbufferedamountlow = this.onerror = this.onclose = null;
  }

  private dispatch(event: { type: string; [key: string]: unknown }): void {
    for (const listener of [...(this.listeners.get(event.type) ?? [])]) listener(event);
    const handler = (this as unknown as Record<string, unknown>)[`on${event.type}`];
    if (typeof handler === 'function') (handler as Listener).call(this, event);
  }
}
