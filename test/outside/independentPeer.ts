/**
 * An independent peer of the tallow wire protocol, version 3, written from
 * docs/protocol.md alone (the outside check): its own frame codec (node:zlib's
 * CRC-32, node:crypto's SHA-256), its own JSON control messages, raw channels.
 * It imports nothing from tallow-rx, so it checks that the document, not our
 * code, is enough to interoperate. Every wait is event-driven (no timers).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The channel and connection surface it needs (an RTCDataChannel / RTCPeerConnection subset). */
export interface RawChannel {
  readonly label: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(): void;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
}
export interface RawConnection {
  createDataChannel(label: string, init?: { negotiated?: boolean; id?: number; ordered?: boolean; maxRetransmits?: number }): RawChannel;
  addEventListener(type: 'datachannel', listener: (event: { channel: RawChannel }) => void): void;
  removeEventListener(type: 'datachannel', listener: (event: { channel: RawChannel }) => void): void;
}

type Msg = { readonly t: string } & Record<string, unknown>;
export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** "Data frames": a 32-byte big-endian header, then the payload. */
export function encodeDocFrame(transferId: number, index: number, offset: number, payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(32 + payload.length);
  const v = new DataView(m.buffer);
  m[0] = 1;
  m[1] = 1;
  v.setUint16(2, 32);
  v.setUint32(4, transferId >>> 0);
  v.setUint32(8, index);
  v.setUint32(12, Math.floor(offset / 2 ** 32));
  v.setUint32(16, offset >>> 0);
  v.setUint32(20, payload.length);
  v.setUint32(24, crc32(payload));
  v.setUint16(28, 0);
  v.setUint16(30, crc32(m.subarray(0, 30)) & 0xffff);
  m.set(payload, 32);
  return m;
}

export interface DocFrame {
  readonly transferId: number;
  readonly index: number;
  readonly offset: number;
  readonly payload: Uint8Array;
}

/** Decodes a frame by the table's rules; undefined for anything malformed (dropped). */
export function decodeDocFrame(data: ArrayBuffer | Uint8Array): DocFrame | undefined {
  const m = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (m.length < 32 || m[0] !== 1 || m[1] !== 1) return undefined;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const headerLength = v.getUint16(2);
  if (headerLength < 32 || headerLength > m.length) return undefined;
  if ((crc32(m.subarray(0, 30)) & 0xffff) !== v.getUint16(30)) return undefined;
  if (v.getUint32(20) !== m.length - headerLength) return undefined;
  const payload = m.subarray(headerLength);
  if (crc32(payload) !== v.getUint32(24)) return undefined;
  return { transferId: v.getUint32(4), index: v.getUint32(8), offset: v.getUint32(12) * 2 ** 32 + v.getUint32(16), payload };
}

const whenOpen = (ch: RawChannel): Promise<void> =>
  ch.readyState === 'open' ? Promise.resolve() : new Promise((resolve) => ch.addEventListener('open', () => resolve()));

/** A control channel: JSON text messages, `ping` answered with `pong` in every state, a wake-up on every message. */
class Control {
  private readonly inbox: Msg[] = [];
  private wake: () => void = () => undefined;
  readonly log: Msg[] = [];
  constructor(readonly channel: RawChannel) {
    channel.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as Msg;
      this.log.push(m);
      if (m.t === 'ping') this.send({ t: 'pong', n: m.n, ts: m.ts });
      else if (m.t !== 'pong') this.inbox.push(m);
      this.wake();
    });
  }
  send(m: Record<string, unknown>): void {
    this.channel.send(JSON.stringify(m));
  }
  async next(): Promise<Msg> {
    await this.until(() => this.inbox.length > 0);
    return this.inbox.shift()!;
  }
  /** The next message, or undefined once `stop()` holds (checked first). */
  async nextUnless(stop: () => boolean): Promise<Msg | undefined> {
    await this.until(() => stop() || this.inbox.length > 0);
    return stop() ? undefined : this.inbox.shift();
  }
  take(): Msg | undefined {
    return this.inbox.shift();
  }
  /** Resolves once `ready()` holds, re-checked on every message and every `poke()`. */
  until(ready: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (ready()) resolve();
        else this.wake = check;
      };
      check();
    });
  }
  poke(): void {
    this.wake();
  }
}

export interface DocFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly lastModified?: number;
}

export interface DocSendConfig {
  /** Data channels (default 2), all on lane 0 unless several connections are given. */
  readonly channels?: number;
  /** Payload bytes per frame (default 64 KiB; the offer's `chunk.max`). */
  readonly chunkBytes?: number;
  /** `offer.window` (default 1 MiB). */
  readonly windowBytes?: number;
  /** `offer.parallel` (default 2). */
  readonly parallel?: number;
  /** Negotiated data-channel ids from here (default 600). */
  readonly idBase?: number;
  readonly id?: number;
  readonly folders?: readonly string[];
  /** Cancel once this many payload bytes were sent and acknowledged. */
  readonly cancelAfterBytes?: number;
  /** `offer.reliability` (default reliable): unreliable channels use `maxRetransmits: 0`, and NACKs bring lost chunks back. */
  readonly reliability?: 'reliable' | 'unreliable';
}

export interface DocSendResult {
  readonly skipped: number[];
  /** `[i, from]` of every file the receiver resumed and whose prefix matched. */
  readonly resumed: [number, number][];
  readonly restarted: number[];
  /** Chunks resent on a NACK. */
  readonly resent: number;
  readonly cancelledAt?: number;
  readonly control: readonly Msg[];
}

/** The sender's side of a session, by "Sequence", "Files in order" and "Flow control". */
export async function docSend(pcs: readonly RawConnection[], files: readonly DocFile[], config: DocSendConfig = {}): Promise<DocSendResult> {
  const { channels = 2, chunkBytes = 65_536, windowBytes = 1 << 20, parallel = 2, idBase = 600, id = 4242, folders = [], reliability = 'reliable' } = config;
  const controlChannel = pcs[0].createDataChannel('tallow-control');
  const data = Array.from({ length: channels }, (_, c) => {
    const unreliable = reliability === 'unreliable' ? { maxRetransmits: 0 } : {};
    const ch = pcs[c % pcs.length].createDataChannel(`tallow-${c}`, { negotiated: true, id: idBase + c, ordered: false, ...unreliable });
    ch.binaryType = 'arraybuffer';
    return ch;
  });
  await whenOpen(controlChannel);
  const control = new Control(controlChannel);
  for (const ch of data) {
    ch.bufferedAmountLowThreshold = 256 * 1024;
    ch.addEventListener('bufferedamountlow', () => control.poke());
  }
  const total = files.reduce((s, f) => s + f.bytes.length, 0);
  control.send({ t: 'offer', v: 3, id, files: files.length, folders: folders.length, bytes: total, channels, lanes: pcs.length, idBase, reliability, chunk: { min: Math.min(16_384, chunkBytes), max: chunkBytes }, digest: 'sha-256', window: windowBytes, parallel });
  files.forEach((f, i) => control.send({ t: 'entry', id, i, name: f.name, size: f.bytes.length, type: 'application/octet-stream', ...(f.lastModified === undefined ? {} : { lastModified: f.lastModified }) }));
  for (const name of folders) control.send({ t: 'folder', id, name });

  const skipped = new Set<number>();
  const resumeFrom = new Map<number, Msg>();
  for (;;) {
    const m = await control.next();
    if (m.t === 'skip') skipped.add(m.i as number);
    else if (m.t === 'resume') resumeFrom.set(m.i as number, m);
    else if (m.t === 'accept') break;
    else throw new Error(`docSend: ${JSON.stringify(m)} before accept`);
  }
  await Promise.all(data.map(whenOpen));

  // Per file: bytes read (sent), bytes acknowledged, complete or not.
  const read = new Map<number, number>();
  const acked = new Map<number, number>();
  const completed = new Set<number>();
  const resumed: [number, number][] = [];
  const restarted: number[] = [];
  let failure: Error | undefined;
  const drain = () => {
    for (let m = control.take(); m; m = control.take()) {
      const i = m.i as number;
      if (m.t === 'ack') acked.set(i, Math.max(acked.get(i) ?? 0, m.bytes as number));
      else if (m.t === 'complete') {
        if (m.sha256 !== sha256Hex(files[i].bytes)) failure = new Error(`complete ${i} with another digest`);
        completed.add(i);
      } else if (m.t === 'resume') resumeFrom.set(i, m);
      else if (m.t === 'nack') for (const index of m.chunks as number[]) resend(i, index);
      else failure = new Error(`docSend: unexpected ${JSON.stringify(m)}`);
    }
  };
  const wait = async (ready: () => boolean) => {
    await control.until(() => (drain(), failure !== undefined || ready()));
    if (failure) throw failure;
  };
  const starts = new Map<number, number>();
  let resent = 0;
  const resend = (i: number, index: number) => {
    const start = starts.get(i) ?? 0;
    const offset = start + index * chunkBytes;
    const f = files[i];
    if (offset >= f.bytes.length || completed.has(i)) return;
    resent++;
    data[index % data.length].send(encodeDocFrame(id + i, index, offset, f.bytes.subarray(offset, Math.min(offset + chunkBytes, f.bytes.length))));
  };
  const unacked = () => [...read].reduce((s, [i, r]) => (completed.has(i) ? s : s + r - (acked.get(i) ?? 0)), 0);
  const active = () => [...read.keys()].filter((i) => !completed.has(i)).length;

  let sent = 0;
  let turn = 0;
  const taken = files.map((_, i) => i).filter((i) => !skipped.has(i));
  for (const i of taken) {
    const f = files[i];
    await wait(() => active() < parallel);
    let start = 0;
    const r = resumeFrom.get(i);
    if (r && (r.from as number) > 0) {
      if (sha256Hex(f.bytes.subarray(0, r.from as number)) === r.prefixSha256) {
        start = r.from as number;
        resumed.push([i, start]);
      } else {
        resumeFrom.delete(i);
        restarted.push(i);
        control.send({ t: 'restart', id, i });
        await wait(() => resumeFrom.get(i)?.from === 0);
      }
    }
    starts.set(i, start);
    read.set(i, start);
    acked.set(i, start);
    let index = 0;
    for (let offset = start; offset < f.bytes.length; offset += chunkBytes) {
      const payload = f.bytes.subarray(offset, Math.min(offset + chunkBytes, f.bytes.length));
      const ch = data[turn++ % data.length];
      await wait(() => unacked() + payload.length <= windowBytes && ch.bufferedAmount <= 1 << 20);
      read.set(i, offset + payload.length);
      ch.send(encodeDocFrame(id + i, index++, offset, payload));
      sent += payload.length;
      if (config.cancelAfterBytes !== undefined && sent >= config.cancelAfterBytes) {
        const end = offset + payload.length;
        await wait(() => (acked.get(i) ?? 0) >= end);
        control.send({ t: 'cancel', id, reason: 'the independent peer stops here' });
        return { skipped: [...skipped], resumed, restarted, resent, cancelledAt: end, control: control.log };
      }
    }
    control.send({ t: 'done', id, i, chunks: index, bytes: f.bytes.length, sha256: sha256Hex(f.bytes) });
  }
  await wait(() => taken.every((i) => completed.has(i)));
  controlChannel.close();
  for (const ch of data) ch.close();
  return { skipped: [...skipped], resumed, restarted, resent, control: control.log };
}

export interface DocReceiveConfig {
  /** Bytes already held per file name: answered with `resume` (from = their length). */
  readonly held?: ReadonlyMap<string, Uint8Array>;
  /** Names answered with `skip`. */
  readonly skip?: ReadonlySet<string>;
  /** Drop the first copy of chunk 1 of every file and NACK it instead. */
  readonly nackChunkOne?: boolean;
}

export interface DocReceiveResult {
  readonly offer: Msg;
  readonly entries: readonly Msg[];
  readonly folders: readonly string[];
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly restarted: number[];
  readonly nacked: number;
  /** The lowest offset of any frame received, per file name (absent: no frame). */
  readonly lowestOffset: ReadonlyMap<string, number>;
  readonly control: readonly Msg[];
}

/** The receiver's side: listens for `tallow-control` on the first connection (subscribe before the sender starts). */
export function docReceive(pcs: readonly RawConnection[], config: DocReceiveConfig = {}): Promise<DocReceiveResult> {
  return new Promise((resolve, reject) => {
    const onChannel = (e: { channel: RawChannel }) => {
      if (e.channel.label !== 'tallow-control') return;
      pcs[0].removeEventListener('datachannel', onChannel);
      receiveSession(pcs, e.channel, config).then(resolve, reject);
    };
    pcs[0].addEventListener('datachannel', onChannel);
  });
}

async function receiveSession(pcs: readonly RawConnection[], channel: RawChannel, config: DocReceiveConfig): Promise<DocReceiveResult> {
  await whenOpen(channel);
  const control = new Control(channel);
  const offer = await control.next();
  if (offer.t !== 'offer' || offer.v !== 3) throw new Error(`docReceive: expected an offer, got ${JSON.stringify(offer)}`);
  const entries: Msg[] = [];
  const folders: string[] = [];
  while (entries.length < (offer.files as number)) entries.push(await control.next());
  while (folders.length < (offer.folders as number)) folders.push((await control.next()).name as string);
  const id = offer.id as number;
  const ackStep = Math.min(1 << 20, (offer.window as number) / 4);
  const files = entries.map((e) => ({
    size: e.size as number,
    buf: new Uint8Array(e.size as number),
    /** offset → length of every chunk held */
    got: new Map<number, number>(),
    front: 0,
    lastAck: 0,
    done: undefined as Msg | undefined,
    complete: false,
    skip: config.skip?.has(e.name as string) ?? false,
    nacked: false,
  }));
  const restarted: number[] = [];
  let nacked = 0;
  const lowestOffset = new Map<string, number>();
  let failure: Error | undefined;
  const settle = (i: number) => {
    const f = files[i];
    while (f.got.has(f.front)) f.front += f.got.get(f.front)!;
    const finished = f.done !== undefined && f.front === f.size;
    if (f.front - f.lastAck >= ackStep || (finished && !f.complete)) {
      f.lastAck = f.front;
      control.send({ t: 'ack', id, i, bytes: f.front, queued: 0 });
    }
    if (finished && !f.complete) {
      const digest = sha256Hex(f.buf);
      if (digest !== f.done!.sha256) failure = new Error(`file ${i}: SHA-256 differs`);
      f.complete = true;
      control.send({ t: 'complete', id, i, sha256: digest });
    }
    control.poke();
  };
  const byTransferId = new Map(files.map((_, i) => [(id + i) >>> 0, i]));
  // Data channels and their listeners before `accept`.
  for (let c = 0; c < (offer.channels as number); c++) {
    const unreliable = offer.reliability === 'unreliable' ? { maxRetransmits: 0 } : {};
    const ch = pcs[c % (offer.lanes as number)].createDataChannel(`tallow-${c}`, { negotiated: true, id: (offer.idBase as number) + c, ordered: false, ...unreliable });
    ch.binaryType = 'arraybuffer';
    ch.addEventListener('message', (e) => {
      const frame = decodeDocFrame(e.data as ArrayBuffer);
      const i = frame && byTransferId.get(frame.transferId);
      if (!frame || i === undefined) return;
      const f = files[i];
      if (config.nackChunkOne && frame.index === 1 && !f.nacked) {
        f.nacked = true;
        nacked++;
        control.send({ t: 'nack', id, i, chunks: [1] });
        return;
      }
      const name = entries[i].name as string;
      lowestOffset.set(name, Math.min(lowestOffset.get(name) ?? Infinity, frame.offset));
      f.buf.set(frame.payload, frame.offset);
      f.got.set(frame.offset, frame.payload.length);
      settle(i);
    });
  }
  files.forEach((f, i) => {
    if (f.skip) return control.send({ t: 'skip', id, i });
    const held = config.held?.get(entries[i].name as string);
    if (!held?.length) return;
    f.buf.set(held);
    f.got.set(0, held.length);
    f.lastAck = held.length;
    control.send({ t: 'resume', id, i, from: held.length, prefixSha256: sha256Hex(held) });
  });
  control.send({ t: 'accept', id });
  const allDone = () => files.every((f) => f.skip || f.complete);
  for (;;) {
    const m = await control.nextUnless(() => failure !== undefined || allDone());
    if (!m) break;
    const i = m.i as number;
    if (m.t === 'done') {
      files[i].done = m;
      settle(i);
    } else if (m.t === 'restart') {
      const f = files[i];
      f.got.clear();
      f.front = 0;
      f.lastAck = 0;
      restarted.push(i);
      control.send({ t: 'resume', id, i, from: 0 });
    } else throw new Error(`docReceive: unexpected ${JSON.stringify(m)}`);
  }
  if (failure) throw failure;
  return {
    offer,
    entries,
    folders,
    files: new Map(files.flatMap((f, i) => (f.skip ? [] : [[entries[i].name as string, f.buf] as const]))),
    restarted,
    nacked,
    lowestOffset,
    control: control.log,
  };
}
