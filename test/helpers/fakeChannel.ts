/**
 * A scriptable `DataChannelLike` for unit tests: set `bufferedAmount` by hand,
 * record sends, open, close, receive and fail on demand. Not a network model;
 * see src/testing/ for virtual channels that actually move bytes.
 */
import type { DataChannelLike, Listener } from '../../src/types';

/** Options for {@link FakeChannel}. */
export interface FakeChannelOptions {
  /** Initial `readyState`. Default `'open'`. */
  readyState?: 'connecting' | 'open' | 'closing' | 'closed';
  /** Initial `bufferedAmount`. Default 0. */
  bufferedAmount?: number;
  /** When false, lowering `bufferedAmount` never fires `bufferedamountlow` (like @roamhq/wrtc). Default true. */
  firesLowEvent?: boolean;
  /** When true, `send` adds the message size to `bufferedAmount` (a channel that never drains by itself). Default true. */
  accumulates?: boolean;
  /** When true, `send` records a copy of a view's bytes (an `RTCDataChannel` copies them before it returns). Default false. */
  copies?: boolean;
}

export class FakeChannel implements DataChannelLike {
  readyState: 'connecting' | 'open' | 'closing' | 'closed';
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  /** Every message passed to `send`, in order. */
  readonly sent: unknown[] = [];
  /** How many `bufferedamountlow` events were fired. */
  lowEvents = 0;
  firesLowEvent: boolean;
  accumulates: boolean;
  readonly copies: boolean;
  /** When set, the next `send` throws it (and sends nothing). */
  sendError: unknown = undefined;
  private buffered: number;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    readonly label: string,
    options: FakeChannelOptions = {},
  ) {
    this.readyState = options.readyState ?? 'open';
    this.buffered = options.bufferedAmount ?? 0;
    this.firesLowEvent = options.firesLowEvent ?? true;
    this.accumulates = options.accumulates ?? true;
    this.copies = options.copies ?? false;
  }

  get bufferedAmount(): number {
    return this.buffered;
  }

  /** Total bytes passed to `send`. */
  get sentBytes(): number {
    return this.sent.reduce<number>((n, m) => n + ((m as Uint8Array).byteLength ?? String(m).length), 0);
  }

  /** Sets `bufferedAmount`; fires `bufferedamountlow` when it crosses the threshold downward. */
  setBufferedAmount(n: number): void {
    const before = this.buffered;
    this.buffered = n;
    if (this.firesLowEvent && before > this.bufferedAmountLowThreshold && n <= this.bufferedAmountLowThreshold) {
      this.lowEvents++;
      this.dispatch('bufferedamountlow', new Event('bufferedamountlow'));
    }
  }

  /** Empties the send buffer (fires `bufferedamountlow` if it crosses the threshold). */
  drain(): void {
    this.setBufferedAmount(0);
  }

  send(data: unknown): void {
    if (this.sendError !== undefined) {
      const err = this.sendError;
      this.sendError = undefined;
      throw err;
    }
    if (this.readyState !== 'open') {
      throw new DOMException(`channel is ${this.readyState}`, 'InvalidStateError');
    }
    this.sent.push(this.copies && ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() : data);
    if (this.accumulates) this.buffered += (data as Uint8Array).byteLength ?? String(data).length;
  }

  /** connecting → open, firing `open`. */
  open(): void {
    this.readyState = 'open';
    this.dispatch('open', new Event('open'));
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.dispatch('close', new Event('close'));
  }

  /** Delivers a message as if the peer had sent it. */
  receive(data: unknown): void {
    this.dispatch('message', { type: 'message', data });
  }

  /** Fires an `error` event carrying `error` (like RTCErrorEvent). */
  fail(error: unknown): void {
    this.dispatch('error', { type: 'error', error });
  }

  /** How many listeners of `type` are attached (all types when omitted). */
  listenerCount(type?: string): number {
    if (type !== undefined) return this.listeners.get(type)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  private dispatch(type: string, event: unknown): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) {
      if (this.listeners.get(type)?.has(listener)) listener(event);
    }
  }
}
