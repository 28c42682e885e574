/**
 * One dedicated Worker that owns data channels transferred to it (`postMessage(channel, [channel])`, which
 * Chromium 156 and Safari allow in the task that created the channel) and relays their I/O to the page:
 * the page keeps a {@link WorkerChannel} for each. The worker's script and its messages are in
 * src/channels/channelWorkerSource.ts.
 */
import type { Listener, PeerConnectionLike } from '../types';
import { SMALL_POOL_BUFFER_BYTES, TransferPool } from '../hash/TransferPool';
import { inWorker, type ChannelAdopter } from './inWorker';
import { WorkerChannel, type WorkerChannelInit } from './WorkerChannel';

/** A Worker as the host uses it (tests pass a fake). */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: string, listener: Listener): void;
  terminate(): void;
}

/** A channel as it is handed over: `RTCDataChannel`'s fields, all optional. */
type RealChannel = Partial<Record<keyof WorkerChannelInit, unknown>>;

const numberOr = <T>(x: unknown, fallback: T): number | T => (typeof x === 'number' ? x : fallback);

/** What the page keeps of a channel it hands over. */
function initOf(ch: RealChannel): WorkerChannelInit {
  return {
    label: String(ch.label ?? ''),
    id: numberOr(ch.id, null),
    readyState: String(ch.readyState ?? 'connecting'),
    ordered: ch.ordered !== false,
    maxRetransmits: numberOr(ch.maxRetransmits, null),
    maxPacketLifeTime: numberOr(ch.maxPacketLifeTime, null),
    protocol: String(ch.protocol ?? ''),
    negotiated: ch.negotiated === true,
    bufferedAmountLowThreshold: numberOr(ch.bufferedAmountLowThreshold, 0),
  };
}

/** The worker's side of the conversation (see channelWorkerSource.ts). */
type Reply =
  | { readonly t: 'ready' }
  | { readonly t: 'open'; readonly id: number; readonly sid: number | null }
  | { readonly t: 'message'; readonly id: number; readonly data: unknown }
  | { readonly t: 'state'; readonly id: number; readonly sent: number; readonly buffered: number; readonly back?: readonly ArrayBuffer[] }
  | { readonly t: 'error'; readonly id: number; readonly name: string; readonly message: string }
  | { readonly t: 'close'; readonly id: number };

/** Pooled send buffers out at the worker at once, at most (64 × 256 KiB = 16 MiB: Chromium's send queue of one channel). */
export const MAX_SEND_BUFFERS_OUT = 64;

/** The page's end of one channel worker. */
export class ChannelWorker implements ChannelAdopter {
  private readonly channels = new Map<number, WorkerChannel>();
  private nextKey = 1;
  /** The stand-in of each connection wrapped so far: a second wrap must not hand a channel over twice. */
  private readonly wrapped = new WeakMap<object, PeerConnectionLike>();
  private dead = false;
  /**
   * Buffers for binary sends, which travel to the worker and come back after `send()`: Chromium's largest
   * message each. At most {@link MAX_SEND_BUFFERS_OUT} out at once; past that a send copies into a new buffer.
   */
  readonly sendBuffers = new TransferPool(SMALL_POOL_BUFFER_BYTES);
  private readonly port = {
    post: (message: Record<string, unknown>, transfer: Transferable[] = []) => this.post(message, transfer),
    take: (bytes: number) => (this.dead || bytes > this.sendBuffers.bufferBytes ? undefined : this.sendBuffers.tryTake(MAX_SEND_BUFFERS_OUT)),
  };

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (event: { data: Reply }) => this.onReply(event.data));
    worker.addEventListener('error', () => this.terminate());
  }

  /** Channels the worker runs now. */
  get size(): number {
    return this.channels.size;
  }

  /**
   * Hands `channel` to the worker and returns the page's side of it, or `undefined` when the channel stays
   * where it is: this browser cannot transfer it (Firefox; a channel older than the current task), or the
   * worker is gone.
   */
  adopt(channel: unknown): WorkerChannel | undefined {
    if (this.dead) return undefined;
    const init = initOf(channel as RealChannel);
    const key = this.nextKey++;
    try {
      this.worker.postMessage({ t: 'adopt', id: key, channel, threshold: init.bufferedAmountLowThreshold }, [channel as Transferable]);
    } catch {
      return undefined;
    }
    const mirror = new WorkerChannel(this.port, key, init);
    this.channels.set(key, mirror);
    return mirror;
  }

  /** `pc` with its new data channels handed to this worker (see `channelsInWorker`); the same stand-in each time. */
  wrap<T extends PeerConnectionLike>(pc: T): T {
    let stand = this.wrapped.get(pc);
    if (!stand) this.wrapped.set(pc, (stand = inWorker(pc, this)));
    return stand as T;
  }

  /** Ends the worker; every channel it ran reports `close`. */
  terminate(): void {
    if (this.dead) return;
    this.dead = true;
    this.worker.terminate();
    const gone = [...this.channels.values()];
    this.channels.clear();
    for (const c of gone) c.closed();
  }

  private post(message: Record<string, unknown>, transfer: Transferable[]): void {
    if (!this.dead) this.worker.postMessage(message, transfer);
  }

  private onReply(m: Reply): void {
    if (m.t === 'ready') return;
    // Pooled buffers come back even when their channel is gone.
    if (m.t === 'state') for (const buffer of m.back ?? []) this.sendBuffers.give(buffer);
    const c = this.channels.get(m.id);
    if (!c) return;
    if (m.t === 'open') c.opened(m.sid);
    else if (m.t === 'message') c.received(m.data);
    else if (m.t === 'state') c.reported(m.sent, m.buffered);
    else if (m.t === 'error') c.failed(m.name, m.message);
    else if (m.t === 'close') {
      this.channels.delete(m.id);
      c.closed();
    }
  }
}
