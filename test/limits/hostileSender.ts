/**
 * A hand-driven, hostile sender for limit tests: it speaks the wire protocol
 * (docs/protocol.md) directly over a virtual link, so a test can send what
 * `sendFile` never would (lies in the manifest, far-away chunk indexes,
 * malformed control messages, silence) and watch what `receiveFile` does.
 */
import { readdir } from 'node:fs/promises';
import { Observable } from 'rxjs';
import { type Manifest, type TransferEvent } from '../../src/index';
import { encodeControl, encodeFrame, parseControl, type ControlMessage } from '../../src/protocol';
import { CONTROL_VERSION } from '../../src/protocol/control';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { createVirtualLink, type VirtualDataChannel, type VirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { sha256Hex } from '../helpers/sha256';

/** What an Observable did, recorded as it happens. */
export interface Watched<T> {
  readonly events: T[];
  readonly error: () => unknown;
  readonly completed: () => boolean;
  /** Settles when the Observable errors or completes (never rejects). */
  readonly settled: Promise<void>;
  /** Unsubscribes (cancels). */
  stop(): void;
}

/** Subscribes to `source` and records everything. */
export function watch<T>(source: Observable<T>): Watched<T> {
  const events: T[] = [];
  let error: unknown;
  let completed = false;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const sub = source.subscribe({
    next: (e) => events.push(e),
    error: (e) => {
      error = e;
      settle();
    },
    complete: () => {
      completed = true;
      settle();
    },
  });
  return { events, error: () => error, completed: () => completed, settled, stop: () => sub.unsubscribe() };
}

/** Resolves after `ms` of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `p`, failing with a clear message after `ms` instead of hanging the suite. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Files in `dir`, sorted. */
export const listDir = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();

export { sha256Hex };

/** A manifest that a receiver accepts, with `overrides` applied. */
export const manifestOf = (overrides: Partial<Manifest> = {}): Manifest => ({
  id: 0x5eed,
  session: overrides.id ?? 0x5eed,
  index: 0,
  parallel: 1,
  name: 'hostile.bin',
  size: 1024,
  type: 'application/octet-stream',
  channels: 1,
  lanes: 1,
  idBase: 600,
  reliability: 'reliable',
  chunk: { min: 1024, max: 65_536 },
  digest: 'sha-256',
  window: 16 * 1024 * 1024,
  ...overrides,
});

/** The v3 messages that offer `m` as a session of one file: `offer`, then its `entry`. */
export function offerMessages(m: Manifest): [ControlMessage, ControlMessage] {
  const { id: _frameId, session, index, name, size, type, lastModified, ...settings } = m;
  const offer: ControlMessage = { t: 'offer', v: CONTROL_VERSION, id: session, files: 1, folders: 0, bytes: size, ...settings };
  const entry: ControlMessage = { t: 'entry', id: session, i: index, name, size, type, ...(lastModified === undefined ? {} : { lastModified }) };
  return [offer, entry];
}

/** The sender end of a virtual link, driven by hand. */
export class HostileSender {
  readonly link: VirtualLink;
  /** The control channel, created in band on endpoint `a` as `sendFile` does. */
  readonly control: VirtualDataChannel;
  /** Every control message the receiver sent, parsed. */
  readonly received: ControlMessage[] = [];
  /** Data channels opened by {@link openData}. */
  data: VirtualDataChannel[] = [];
  readonly #waiters: { t: ControlMessage['t']; resolve: (m: ControlMessage) => void }[] = [];

  constructor(config: VirtualLinkConfig = {}) {
    this.link = createVirtualLink(config);
    this.control = this.link.a.createDataChannel(CONTROL_LABEL, { ordered: true });
    this.control.addEventListener('message', (ev: { data: unknown }) => {
      const msg = parseControl(ev.data);
      this.received.push(msg);
      for (const w of this.#waiters.splice(0)) {
        if (w.t === msg.t) w.resolve(msg);
        else this.#waiters.push(w);
      }
    });
  }

  /** Resolves once the control channel is open. */
  opened(): Promise<void> {
    if (this.control.readyState === 'open') return Promise.resolve();
    return new Promise((resolve) => this.control.addEventListener('open', () => resolve()));
  }

  /** The first message of type `t` from the receiver (one already received counts). */
  next<K extends ControlMessage['t']>(t: K, ms = 5_000): Promise<Extract<ControlMessage, { t: K }>> {
    const seen = this.received.find((m) => m.t === t);
    const p = seen ? Promise.resolve(seen) : new Promise<ControlMessage>((resolve) => this.#waiters.push({ t, resolve }));
    return within(p, ms, `waiting for '${t}' from the receiver`) as Promise<Extract<ControlMessage, { t: K }>>;
  }

  /** Sends a control message, or raw text / bytes exactly as given. */
  send(msg: ControlMessage | string | Uint8Array): void {
    this.control.send(typeof msg === 'string' || msg instanceof Uint8Array ? msg : encodeControl(msg));
  }

  /** Opens the control channel and sends a one-file offer for `manifest` (the offer, then its entry). */
  async offer(manifest: Manifest): Promise<void> {
    await this.opened();
    for (const msg of offerMessages(manifest)) this.send(msg);
  }

  /** Creates this side's negotiated data channels for `manifest` and waits until they are open. */
  async openData(manifest: Manifest): Promise<VirtualDataChannel[]> {
    this.data = Array.from({ length: manifest.channels }, (_, i) =>
      this.link.a.createDataChannel(`tallow-${i}`, {
        negotiated: true,
        id: manifest.idBase + i,
        ordered: false,
        ...(manifest.reliability === 'unreliable' ? { maxRetransmits: 0 } : {}),
      }),
    );
    await Promise.all(this.data.map((ch) => (ch.readyState === 'open' ? undefined : new Promise((resolve) => ch.addEventListener('open', resolve)))));
    return this.data;
  }

  /** Offers, waits for `accept`, and opens the data channels. */
  async handshake(manifest: Manifest): Promise<Extract<ControlMessage, { t: 'accept' }>> {
    await this.offer(manifest);
    const accept = await this.next('accept');
    await this.openData(manifest);
    return accept;
  }

  /** Sends one data frame on data channel `channel` (default 0). */
  frame(transferId: number, index: number, offset: number, payload: Uint8Array, channel = 0): void {
    this.data[channel].send(encodeFrame({ transferId, index, offset }, payload));
  }

  /** Sends `bytes` as consecutive chunks of `chunkSize` from index 0, then `done` with their digest. */
  sendAll(manifest: Manifest, bytes: Uint8Array, chunkSize: number, done = true): number {
    let index = 0;
    for (let offset = 0; offset < bytes.length; offset += chunkSize, index++) {
      this.frame(manifest.id, index, offset, bytes.subarray(offset, offset + chunkSize), index % this.data.length);
    }
    if (done) this.send({ t: 'done', id: manifest.session, i: manifest.index, chunks: index, bytes: bytes.length, sha256: sha256Hex(bytes) });
    return index;
  }

  close(): void {
    this.link.close();
  }
}

/** The receiver's terminal outcome, for readable assertions. */
export const outcomeOf = (w: Watched<TransferEvent>): string =>
  w.error() ? `error ${(w.error() as Error).name} ${(w.error() as { code?: string }).code ?? ''}`.trim() : w.completed() ? 'completed' : 'running';
