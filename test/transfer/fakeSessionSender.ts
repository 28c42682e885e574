/**
 * A hand-driven v3 sender for receiver tests, written from docs/protocol.md (not from our sender): it
 * creates the control channel in band on endpoint `a` of a virtual link, sends `offer`, `entry` and
 * `folder` messages, frames with transfer id `(id + i) mod 2^32`, `done` and `restart`, and records every
 * control message the receiver sends. Everything runs on the link's scheduler, so a test drives it step
 * by step in virtual time.
 */
import { Observable } from 'rxjs';
import { encodeControl, encodeFrame, parseControl, type ControlMessage } from '../../src/protocol';
import { CONTROL_VERSION, type SessionSettings } from '../../src/protocol/control';
import type { Bytes, Chunk, Manifest, OpenedTarget, ReceiveTarget } from '../../src/index';
import type { VirtualDataChannel, VirtualLink } from '../../src/testing';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { sha256Hex } from '../helpers/sha256';

/** A file the fake sender offers. */
export interface FakeFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export const SETTINGS: SessionSettings = {
  channels: 1,
  lanes: 1,
  idBase: 600,
  reliability: 'reliable',
  chunk: { min: 1024, max: 16 * 1024 },
  digest: 'sha-256',
  window: 1024 * 1024,
  parallel: 1,
};

type Msg<K extends ControlMessage['t']> = Extract<ControlMessage, { t: K }>;

export class FakeSessionSender {
  readonly control: VirtualDataChannel;
  /** Every control message the receiver sent, parsed, in order. */
  readonly received: ControlMessage[] = [];
  data: VirtualDataChannel[] = [];

  constructor(
    readonly link: VirtualLink,
    readonly id = 0xffff_fffe,
    readonly settings: SessionSettings = SETTINGS,
  ) {
    this.control = link.a.createDataChannel(CONTROL_LABEL, { ordered: true });
    this.control.addEventListener('message', (ev: { data: unknown }) => this.received.push(parseControl(ev.data)));
  }

  get open(): boolean {
    return this.control.readyState === 'open';
  }

  /** The receiver's messages of type `t`. */
  all<K extends ControlMessage['t']>(t: K): Msg<K>[] {
    return this.received.filter((m): m is Msg<K> => m.t === t);
  }

  has(t: ControlMessage['t'], i?: number): boolean {
    return this.received.some((m) => m.t === t && (i === undefined || ('i' in m && m.i === i)));
  }

  send(msg: ControlMessage | string): void {
    this.control.send(typeof msg === 'string' ? msg : encodeControl(msg));
  }

  /** `offer`, then one `entry` per file (i = 0, 1, …) and one `folder` per folder. */
  offer(files: readonly FakeFile[], folders: readonly string[] = [], overrides: Record<string, unknown> = {}): void {
    const bytes = files.reduce((n, f) => n + f.bytes.length, 0);
    this.send(JSON.stringify({ t: 'offer', v: CONTROL_VERSION, id: this.id, files: files.length, folders: folders.length, bytes, ...this.settings, ...overrides }));
    files.forEach((f, i) => this.entry(i, f));
    for (const name of folders) this.send({ t: 'folder', id: this.id, name });
  }

  entry(i: number, f: FakeFile): void {
    this.send({ t: 'entry', id: this.id, i, name: f.name, size: f.bytes.length, type: 'application/octet-stream' });
  }

  /** Creates the negotiated data channels (after `accept`). */
  openData(): void {
    this.data = Array.from({ length: this.settings.channels }, (_, c) =>
      this.link.a.createDataChannel(`tallow-${c}`, { negotiated: true, id: this.settings.idBase + c, ordered: false }),
    );
  }

  get dataOpen(): boolean {
    return this.data.length > 0 && this.data.every((ch) => ch.readyState === 'open');
  }

  /** One frame of file `i`. */
  frame(i: number, index: number, offset: number, payload: Uint8Array): void {
    this.data[index % this.data.length].send(encodeFrame({ transferId: (this.id + i) >>> 0, index, offset }, payload));
  }

  /** File `i` from byte `from` in chunks of `chunk` (indexes from 0), then its `done` (whole-file digest). */
  sendFile(i: number, bytes: Uint8Array, from = 0, chunk = this.settings.chunk.max): void {
    let index = 0;
    for (let offset = from; offset < bytes.length; offset += chunk) this.frame(i, index++, offset, bytes.subarray(offset, offset + chunk));
    this.send({ t: 'done', id: this.id, i, chunks: index, bytes: bytes.length, sha256: sha256Hex(bytes) });
  }
}

/** A file a {@link filesTarget} holds. */
interface Held {
  buffer: Uint8Array;
  persisted: number;
}

/** A multi-file in-memory target with `held` and `folder`, recording how the receiver used it. */
export interface FilesTarget extends ReceiveTarget {
  readonly opens: { name: string; resume?: boolean; from: number }[];
  readonly aborts: { name: string; reason: unknown }[];
  readonly folders: string[];
  readonly heldAsked: string[];
  bytes(name: string): Uint8Array | undefined;
}

/** Files by name; `preload` gives bytes already held (a resumable prefix). */
export function filesTarget(preload: Record<string, { size: number; bytes: Uint8Array }> = {}): FilesTarget {
  const files = new Map<string, Held>();
  for (const [name, p] of Object.entries(preload)) {
    const buffer = new Uint8Array(p.size);
    buffer.set(p.bytes);
    files.set(name, { buffer, persisted: p.bytes.length });
  }
  const t: FilesTarget = {
    opens: [],
    aborts: [],
    folders: [],
    heldAsked: [],
    bytes: (name) => {
      const f = files.get(name);
      return f && f.buffer.slice(0, f.persisted);
    },
    held: (m) => {
      t.heldAsked.push(m.name);
      const f = files.get(m.name);
      return f && f.buffer.length === m.size ? f.persisted : 0;
    },
    folder: (path) => void t.folders.push(path),
    open: (m, hints) => {
      let f = files.get(m.name);
      if (!f || f.buffer.length !== m.size || hints?.resume === false) files.set(m.name, (f = { buffer: new Uint8Array(m.size), persisted: 0 }));
      t.opens.push({ name: m.name, resume: hints?.resume, from: f.persisted });
      return opened(m, f, (reason) => t.aborts.push({ name: m.name, reason }));
    },
  };
  return t;
}

function opened(m: Manifest, f: Held, onAbort: (reason: unknown) => void): OpenedTarget {
  const from = f.persisted;
  return {
    from,
    prefix: () =>
      new Observable<Bytes>((s) => {
        s.next(f.buffer.slice(0, from));
        s.complete();
      }),
    sink: (source: Observable<Chunk>) =>
      new Observable<number>((s) => {
        let session = 0;
        const sub = source.subscribe({
          next: (c) => {
            if (c.offset !== from + session) return s.error(new Error(`${m.name}: chunk at ${c.offset}, expected ${from + session}`));
            f.buffer.set(c.data, c.offset);
            session += c.data.length;
            f.persisted = from + session;
            s.next(session);
          },
          error: (e) => s.error(e),
          complete: () => s.complete(),
        });
        return () => sub.unsubscribe();
      }),
    finish: () => f.buffer.slice(0, f.persisted),
    abort: (reason) => onAbort(reason),
  };
}
