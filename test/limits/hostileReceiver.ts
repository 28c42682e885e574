/**
 * A hand-driven, hostile receiver for sender-side limit tests: it speaks the wire protocol
 * (docs/protocol.md) directly over a virtual link, so a test can answer `sendFile` with what
 * `receiveFile` never would (a `complete` before any data, acks beyond the file, a second `accept`,
 * one NACK and no repeat, pongs but no acks) and watch what the sender does.
 */
import { type Manifest } from '../../src/index';
import { decodeFrame, encodeControl, parseControl, type ControlMessage, type DataFrame } from '../../src/protocol';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { createVirtualLink, type VirtualDataChannel, type VirtualLink, type VirtualLinkConfig } from '../../src/testing';
import { within } from './hostileSender';

/** Options of {@link HostileReceiver}. */
export interface HostileReceiverConfig {
  /** Answer the sender's pings with pongs. Default true. */
  readonly answerPings?: boolean;
}

/** The receiver end of a virtual link (endpoint `b`), driven by hand; `link.a` goes to `sendFile`. */
export class HostileReceiver {
  readonly link: VirtualLink;
  /** Every control message the sender sent, parsed. */
  readonly received: ControlMessage[] = [];
  /** Every data frame that arrived, decoded, in arrival order. */
  readonly frames: DataFrame[] = [];
  /** Called for each data frame as it arrives. */
  onFrame: (f: DataFrame) => void = () => undefined;
  /** Called for each control message from the sender as it arrives (synchronously: usable in virtual time). */
  onControl: (m: ControlMessage) => void = () => undefined;
  control: VirtualDataChannel | undefined;
  data: VirtualDataChannel[] = [];
  readonly #waiters: { t: ControlMessage['t']; resolve: (m: ControlMessage) => void }[] = [];
  /** Conditions of {@link when} still waited for, checked on each control message. */
  readonly #conditions = new Set<() => void>();

  constructor(config: VirtualLinkConfig = {}, options: HostileReceiverConfig = {}) {
    this.link = createVirtualLink({ delayMs: 2, ...config });
    this.link.b.addEventListener('datachannel', (ev: { channel: VirtualDataChannel }) => {
      if (ev.channel.label !== CONTROL_LABEL || this.control) return;
      this.control = ev.channel;
      this.control.addEventListener('message', (m: { data: unknown }) => {
        const msg = parseControl(m.data);
        this.received.push(msg);
        this.onControl(msg);
        if (msg.t === 'ping' && options.answerPings !== false) this.send({ t: 'pong', n: msg.n, ts: msg.ts });
        for (const w of this.#waiters.splice(0)) {
          if (w.t === msg.t) w.resolve(msg);
          else this.#waiters.push(w);
        }
        for (const check of [...this.#conditions]) check();
      });
    });
  }

  /** The first message of type `t` from the sender (one already received counts). */
  next<K extends ControlMessage['t']>(t: K, ms = 5_000): Promise<Extract<ControlMessage, { t: K }>> {
    const seen = this.received.find((m) => m.t === t);
    const p = seen ? Promise.resolve(seen) : new Promise<ControlMessage>((resolve) => this.#waiters.push({ t, resolve }));
    return within(p, ms, `waiting for '${t}' from the sender`) as Promise<Extract<ControlMessage, { t: K }>>;
  }

  /** Resolves once `done(received)` holds (checked now and on each control message from the sender). */
  when(done: (received: readonly ControlMessage[]) => boolean, what: string, ms = 5_000): Promise<void> {
    const p = new Promise<void>((resolve) => {
      const check = () => {
        if (!done(this.received)) return;
        this.#conditions.delete(check);
        resolve();
      };
      this.#conditions.add(check);
      check();
    });
    return within(p, ms, `waiting for ${what}`);
  }

  /** Sends a control message, or raw text exactly as given. */
  send(msg: ControlMessage | string): void {
    this.control!.send(typeof msg === 'string' ? msg : encodeControl(msg));
  }

  /** Waits for the offer and its first entry, creates the negotiated data channels (recording frames) and returns file 0's manifest. */
  async offered(): Promise<Manifest> {
    const { t: _t, v: _v, files: _f, folders: _d, bytes: _b, ...o } = await this.next('offer');
    const { t: _e, i, id: _id, ...entry } = await this.next('entry');
    const m: Manifest = { ...o, ...entry, session: o.id, index: i };
    this.openData(m);
    return m;
  }

  /**
   * A session: waits for the offer and every entry it announces, creates the data channels (recording
   * frames) and returns each file's manifest in order (file `i`'s `id` is its frames' transfer id, `(id + i) mod 2^32`).
   */
  async offeredSession(): Promise<Manifest[]> {
    const { t: _t, v: _v, files, folders: _d, bytes: _b, ...o } = await this.next('offer');
    await this.when((r) => r.filter((m) => m.t === 'entry').length >= files, `${files} entries`);
    const entries = this.received.filter((m): m is Extract<ControlMessage, { t: 'entry' }> => m.t === 'entry');
    const manifests = entries.map(({ t: _e, i, id: _id, ...entry }): Manifest => ({ ...o, ...entry, id: (o.id + i) >>> 0, session: o.id, index: i }));
    this.openData(o);
    return manifests;
  }

  /** Creates the negotiated data channels the offer announced, recording every frame. */
  openData(m: Pick<Manifest, 'channels' | 'idBase' | 'reliability'>): void {
    this.data = Array.from({ length: m.channels }, (_, i) => {
      const ch = this.link.b.createDataChannel(`tallow-${i}`, {
        negotiated: true,
        id: m.idBase + i,
        ordered: false,
        ...(m.reliability === 'unreliable' ? { maxRetransmits: 0 } : {}),
      });
      ch.binaryType = 'arraybuffer';
      ch.addEventListener('message', (ev: { data: ArrayBuffer }) => {
        const f = decodeFrame(new Uint8Array(ev.data));
        this.frames.push(f);
        this.onFrame(f);
      });
      return ch;
    });
  }

  /** Payload bytes received so far (retransmissions included). */
  bytes(): number {
    return this.frames.reduce((n, f) => n + f.data.length, 0);
  }

  close(): void {
    this.link.close();
  }
}
