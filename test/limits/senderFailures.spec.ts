/**
 * Failures that must reach the other side with their real cause: a full disk at the receiver
 * (ERR_SINK_WRITE with ENOSPC at the sender), a source that shrinks while being read (SourceReadError
 * at the sender, before the receiver sees a gap), and a send refused for want of channel ids (no
 * control channel left behind).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blobTarget,
  fromBytes,
  LimitExceededError,
  receiveFile,
  sendFile,
  SinkWriteError,
  SourceReadError,
  TallowError,
  type FileDescriptor,
  type ReceiveTarget,
} from '../../src/index';
import { directoryTarget } from '../../src/node';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { watch } from './hostileSender';
import { inbox } from './tmpDirs';

const MiB = 1024 * 1024;
let links: VirtualLink[] = [];
afterEach(() => {
  for (const l of links) l.close();
  links = [];
});
const link = () => {
  const l = createVirtualLink({ delayMs: 2 });
  links.push(l);
  return l;
};
const settled = async <T,>(o: Observable<T>): Promise<unknown> => lastValueFrom(o.pipe(toArray())).then(() => undefined, (e) => e);

describe('a failure reaches the peer with its cause', () => {
  it('ENOSPC while writing at the receiver → the sender fails with ERR_SINK_WRITE and causeCode ENOSPC', async () => {
    const l = link();
    // A target whose disk fills after 1 MiB, failing as directoryTarget does (SinkWriteError, details.causeCode).
    const full: ReceiveTarget = {
      open: (m) => {
        const inner = blobTarget().open(m) as Awaited<ReturnType<ReceiveTarget['open']>>;
        return {
          ...inner,
          sink: (source) =>
            new Observable<number>((subscriber) => {
              let n = 0;
              return source.subscribe({
                next: (c) => {
                  n += c.data.length;
                  if (n > MiB) {
                    const cause = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
                    subscriber.error(new SinkWriteError('writing big.bin failed', { path: 'big.bin', causeCode: 'ENOSPC' }, cause));
                  } else subscriber.next(n);
                },
              });
            }),
        };
      },
    };
    const [r, s] = await Promise.all([settled(receiveFile(l.b, { target: full })), settled(sendFile(l.a, new Uint8Array(4 * MiB), { channels: 1 }))]);
    expect(r).toBeInstanceOf(SinkWriteError);
    expect(s).toBeInstanceOf(TallowError);
    expect((s as TallowError).code).toBe('ERR_SINK_WRITE');
    expect((s as TallowError).details).toMatchObject({ remote: true, causeCode: 'ENOSPC' });
    expect((s as TallowError).message).toMatch(/receiver failed: writing big\.bin failed \(ENOSPC\)/);
  });

  it("a directoryTarget whose folder is a file → the sender's message names the cause code once (it printed \"(ENOTDIR) (ENOTDIR)\")", async () => {
    const l = link();
    const { root } = await inbox();
    // A file where the download folder should be: directoryTarget fails with "… failed (ENOTDIR)" (or EEXIST) and causeCode.
    await writeFile(join(root, 'downloads'), 'not a folder');
    const [r, s] = await Promise.all([settled(receiveFile(l.b, { target: directoryTarget(join(root, 'downloads')) })), settled(sendFile(l.a, new Uint8Array(10), { channels: 1 }))]);
    expect(r).toBeInstanceOf(SinkWriteError);
    const code = (r as SinkWriteError).details.causeCode as string;
    expect((s as TallowError).details).toMatchObject({ remote: true, causeCode: code });
    const message = (s as TallowError).message;
    expect(message).toBe(`receiver failed: ${(r as SinkWriteError).message}`);
    expect(message.endsWith(` (${code})`)).toBe(true);
    expect(message.split(`(${code})`)).toHaveLength(2);
  });

  it("a peer's message with control characters (a terminal escape, NUL, a newline, a bidi override) reaches the local error with each one as U+FFFD", async () => {
    const l = link();
    const nasty: ReceiveTarget = {
      open: () => {
        throw new SinkWriteError('disk \u001b[31mred\u0000 line\nforged \u202eevil', { path: 'x' });
      },
    };
    const [r, s] = await Promise.all([settled(receiveFile(l.b, { target: nasty })), settled(sendFile(l.a, new Uint8Array(10), { channels: 1 }))]);
    expect(r).toBeInstanceOf(SinkWriteError);
    expect((s as TallowError).code).toBe('ERR_SINK_WRITE');
    expect((s as TallowError).message).toBe('receiver failed: disk \ufffd[31mred\ufffd line\ufffdforged \ufffdevil');
  });

  it("a peer's error code with control characters becomes ERR_REMOTE, and details.remoteCode has each one as U+FFFD", async () => {
    const l = link();
    const nasty: ReceiveTarget = {
      open: () => {
        throw new TallowError('ERR_X\u0000\n\u001b[2J', 'odd code');
      },
    };
    const [, s] = await Promise.all([settled(receiveFile(l.b, { target: nasty })), settled(sendFile(l.a, new Uint8Array(10), { channels: 1 }))]);
    expect((s as TallowError).code).toBe('ERR_REMOTE');
    expect((s as TallowError).details.remoteCode).toBe('ERR_X\ufffd\ufffd\ufffd[2J');
  });

  it('a source that ends 1 MiB short of its declared size → SourceReadError at the sender, ERR_SOURCE_READ at the receiver', async () => {
    const l = link();
    const bytes = new Uint8Array(3 * MiB).fill(9);
    // Declares 4 MiB, delivers 3 (a file truncated while being read).
    const shrinking: FileDescriptor = { name: 'log.txt', size: 4 * MiB, type: 'text/plain', seekable: true, read: ({ demand, start = 0 }) => fromBytes(bytes.subarray(start), { demand }) };
    const [r, s] = await Promise.all([settled(receiveFile(l.b)), settled(sendFile(l.a, shrinking, { channels: 1 }))]);
    expect(s).toBeInstanceOf(SourceReadError);
    expect((s as SourceReadError).details).toMatchObject({ read: 3 * MiB, size: 4 * MiB });
    expect((s as SourceReadError).message).toMatch(/ended after 3145728 of its 4194304 B/);
    expect((r as TallowError).code).toBe('ERR_SOURCE_READ');
  });

  it('a source that yields 10 bytes more than its declared size → SourceReadError saying it grew (it said "shrank")', async () => {
    const l = link();
    const bytes = new Uint8Array(MiB + 10).fill(3);
    const growing: FileDescriptor = { name: 'log.txt', size: MiB, type: 'text/plain', seekable: true, read: ({ demand, start = 0 }) => fromBytes(bytes.subarray(start), { demand }) };
    const [r, s] = await Promise.all([settled(receiveFile(l.b)), settled(sendFile(l.a, growing, { channels: 1 }))]);
    expect(s).toBeInstanceOf(SourceReadError);
    expect((s as SourceReadError).message).toBe(`log.txt ended after ${MiB + 10} of its ${MiB} B (it grew while being read)`);
    expect((r as TallowError).code).toBe('ERR_SOURCE_READ');
  });
});

describe('a send refused for want of channel ids', () => {
  it('the send after the last free block of ids fails with InvalidConfigError and leaves no control channel open', async () => {
    const l = link();
    // Nobody receives: each send waits for an accept, holding a block of 16 ids (16 blocks per parity
    // half where the control channel's stream id is known at once, as on real stacks; 32 otherwise).
    const waiting: ReturnType<typeof watch>[] = [];
    let err: unknown;
    for (let i = 0; i < 40 && !err; i++) {
      const w = watch(sendFile(l.a, new Uint8Array(10), { acceptTimeoutMs: 60_000 }));
      await Promise.resolve();
      if (w.error()) err = w.error();
      else waiting.push(w);
    }
    // A resource limit: LimitExceededError (an outside check: it was InvalidConfigError, for no option of the app's).
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as Error).message).toMatch(/^sessions at once on this connection \d+ exceeds the limit of (16|32)$/);
    const controls = () => l.a.channels.filter((ch) => ch.label === CONTROL_LABEL && ch.readyState !== 'closed' && ch.readyState !== 'closing');
    expect(controls()).toHaveLength(waiting.length);
    for (const w of waiting) w.stop();
  });
});
