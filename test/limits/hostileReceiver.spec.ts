/**
 * Limits on the sender: a receiver that lies (a `complete` for data never sent, acks beyond the file,
 * a second `accept`), stalls (pongs but no acks), NACKs a chunk only once, or sends garbage. The sender
 * never reports success it cannot prove, never idles forever, and always tells the peer why it stopped.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { IdleTimeoutError, ProtocolError, sendFile, type TransferEvent } from '../../src/index';
import { MAX_CONTROL_MESSAGE } from '../../src/protocol';
import { HostileReceiver } from './hostileReceiver';
import { sleep, watch, within, type Watched } from './hostileSender';
import { HashMismatchError, sendFiles, type SessionEvent } from '../../src/index';
import type { ControlMessage } from '../../src/protocol/control';
import { describeFile } from '../../src/transfer/fileInput';
import { MAX_NACKED_COPIES } from '../../src/transfer/RetransmitStore';
import { TestScheduler } from 'rxjs/testing';

const KiB = 1024;
const MiB = 1024 * KiB;
const bytesOf = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
const FILE = bytesOf(4 * MiB);
const SHA = createHash('sha256').update(FILE).digest('hex');
const FAKE = 'f'.repeat(64);

let open: HostileReceiver[] = [];
afterEach(() => {
  for (const r of open) r.close();
  open = [];
});
const receiver = (...args: ConstructorParameters<typeof HostileReceiver>) => {
  const r = new HostileReceiver(...args);
  open.push(r);
  return r;
};
const types = (w: Watched<TransferEvent>) => w.events.map((e) => e.type);
const settle = async (w: Watched<TransferEvent>) => {
  await within(w.settled, 10_000, 'sender settles');
  return w.error() as Error & { code?: string; details?: Record<string, unknown> };
};

describe('a receiver that claims success it cannot have', () => {
  it('complete with a made-up hash right after accept → ProtocolError, no completed, 0 of 4 MiB claimed', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    r.send({ t: 'complete', id: m.id, i: 0, sha256: FAKE });
    const err = await settle(s);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/complete'? (of file \d+ )?before the (sender sent (its )?done|transfer started)/);
    expect(types(s)).not.toContain('completed');
    // The peer is told why.
    expect(await r.next('error')).toMatchObject({ id: m.id, code: 'ERR_PROTOCOL' });
  });

  it('complete instead of accept → ProtocolError, nothing sent', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    r.send({ t: 'complete', id: m.id, i: 0, sha256: SHA });
    const err = await settle(s);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(types(s)).not.toContain('completed');
    expect(types(s)).not.toContain('started');
    expect(r.bytes()).toBe(0);
  });

  it('complete with the right digest after done, but before every byte is acknowledged → ProtocolError', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    const done = await r.next('done');
    expect(done.sha256).toBe(SHA);
    r.send({ t: 'ack', id: m.id, i: 0, bytes: MiB, queued: 0 });
    r.send({ t: 'complete', id: m.id, i: 0, sha256: SHA });
    const err = await settle(s);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/1048576 of 4194304 B acknowledged/);
    expect(types(s)).not.toContain('completed');
  });

  it('every byte acked and the right digest after done → completed (the honest path still works)', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    await r.next('done');
    r.send({ t: 'ack', id: m.id, i: 0, bytes: FILE.length, queued: 0 });
    r.send({ t: 'complete', id: m.id, i: 0, sha256: SHA });
    await settle(s);
    expect(s.error()).toBeUndefined();
    expect(types(s)).toContain('completed');
  });
});

describe('a receiver that breaks the sequence', () => {
  it('a second accept → ProtocolError; one started event, never more than the file read', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    r.send({ t: 'accept', id: m.id });
    const err = await settle(s);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/'accept' is not legal for the sender while (checking|sending)/);
    expect(types(s).filter((t) => t === 'started').length).toBeLessThanOrEqual(1);
    expect(r.bytes()).toBeLessThanOrEqual(FILE.length);
  });

  it.each([
    ['beyond the file size', () => FILE.length + 1],
    ['beyond what was read so far', () => FILE.length],
  ])('an ack %s → ProtocolError, acked never exceeds total', async (_, bytes) => {
    const r = receiver();
    // A window of 1 MiB: the sender cannot have read the whole 4 MiB before the first ack.
    const s = watch(sendFile(r.link.a, FILE, { channels: 1, window: MiB }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    await r.next('ping', 3000).catch(() => undefined);
    r.send({ t: 'ack', id: m.id, i: 0, bytes: bytes(), queued: 0 });
    const err = await settle(s);
    expect(err).toBeInstanceOf(ProtocolError);
    for (const e of s.events) if (e.type === 'progress') expect(e.acked).toBeLessThanOrEqual(e.total);
  });

  it('a control message over 64 KiB → ProtocolError, and the receiver is told with an error before the sender closes', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    r.send(JSON.stringify({ t: 'cancel', id: m.id, reason: 'x'.repeat(MAX_CONTROL_MESSAGE) }));
    const err = await settle(s);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(await r.next('error')).toMatchObject({ id: m.id, code: 'ERR_PROTOCOL' });
  });
});

describe('idleness is no acknowledged progress', () => {
  it('a receiver that answers every ping but never acks → IdleTimeoutError after idleTimeout, saying what it measured', async () => {
    const r = receiver({}, { answerPings: true });
    const s = watch(sendFile(r.link.a, FILE, { channels: 1, window: MiB, idleTimeoutMs: 1500 }));
    const m = await r.offered();
    r.send({ t: 'accept', id: m.id });
    const err = await settle(s);
    expect(err).toBeInstanceOf(IdleTimeoutError);
    expect(err.message).toMatch(/sender: no progress in acknowledged bytes for 1500 ms \(0 of 4194304 B\)/);
    expect(err.details).toMatchObject({ side: 'sender', measured: 'acknowledged bytes', progress: 0, total: FILE.length });
    // It kept answering: the pongs did not count as progress.
    expect(r.received.filter((x) => x.t === 'ping').length).toBeGreaterThan(0);
  });
});

describe('NACKs and the window, as docs/protocol.md states them', () => {
  it('a chunk NACKed once, too soon to resend, is still resent once its copy has left', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
    const m = await r.offered();
    let nacked = false;
    const resent = new Promise<void>((resolve) => {
      r.onFrame = (f) => {
        if (f.index === 0 && !nacked) {
          nacked = true;
          r.send({ t: 'nack', id: m.id, i: 0, chunks: [0] }); // once, a few ms after the first copy: "too soon"
        }
        if (f.index === 0 && f.flags & 1) resolve();
      };
    });
    r.send({ t: 'accept', id: m.id });
    await within(resent, 5_000, 'the retransmission of chunk 0');
    s.stop();
  });

  it('the offer carries the window, and a receiver that never acks gets at most window + one chunk', async () => {
    const r = receiver();
    const s = watch(sendFile(r.link.a, FILE, { channels: 1, window: MiB, idleTimeoutMs: 800 }));
    const m = await r.offered();
    expect(m.window).toBe(MiB);
    r.send({ t: 'accept', id: m.id });
    await settle(s);
    expect(r.bytes()).toBeLessThanOrEqual(m.window + m.chunk.max);
    expect(r.bytes()).toBeGreaterThan(0);
  });
});

describe('a hostile receiver against a session', () => {
  // Three files, each smaller than any window: the sender reads a file whole as soon as it may start it.
  const FILES = [bytesOf(40 * KiB), bytesOf(70 * KiB + 1).reverse(), bytesOf(10 * KiB + 7).map((b) => b ^ 0x5a)];
  const SHAS = FILES.map((f) => createHash('sha256').update(f).digest('hex'));
  const setOf = (files: readonly Uint8Array[]) => ({ files: files.map((f, i) => describeFile(f, { name: `dir/${i}.bin` })) });
  const sessionTypes = (w: Watched<SessionEvent>) => w.events.map((e) => e.type).filter((t) => t !== 'progress' && t !== 'file-progress' && t !== 'stats');
  const settleSession = async (w: Watched<SessionEvent>) => {
    await within(w.settled, 10_000, 'sender settles');
    return w.error() as Error & { code?: string; details?: Record<string, unknown> };
  };
  /** The index of the file whose frames `f` is, in session `id`. */
  const fileOfFrame = (id: number, f: { transferId: number }) => (f.transferId - id) >>> 0;
  /** Files whose frames or `done` the sender sent. */
  const filesSeen = (r: HostileReceiver, id: number) =>
    new Set([...r.frames.map((f) => fileOfFrame(id, f)), ...r.received.flatMap((m) => (m.t === 'done' ? [m.i] : []))]);
  /** Resolves once `cond()` holds (polled every 5 ms). */
  const eventually = async (cond: () => boolean, what: string) => {
    let poll: ReturnType<typeof setInterval> | undefined;
    try {
      await within(new Promise<void>((resolve) => (poll = setInterval(() => cond() && resolve(), 5))), 5_000, what);
    } finally {
      clearInterval(poll);
    }
  };
  /** Completes file `i` as an honest receiver would: its last ack, then complete with the digest of its done. */
  const complete = async (r: HostileReceiver, id: number, i: number) => {
    await r.when((got) => got.some((m) => m.t === 'done' && m.i === i), `done ${i}`);
    const done = r.received.find((m): m is Extract<ControlMessage, { t: 'done' }> => m.t === 'done' && m.i === i)!;
    r.send({ t: 'ack', id, i, bytes: done.bytes, queued: 0 });
    r.send({ t: 'complete', id, i, sha256: done.sha256 });
  };

  describe('answers to the offer', () => {
    it('skip for a file index out of range → ProtocolError, the peer is told, no data sent', async () => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      r.send({ t: 'skip', id: m.session, i: FILES.length });
      const err = await settleSession(s);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toMatch(/'skip' for file 3; the offer has 3/);
      expect(await r.next('error')).toMatchObject({ id: m.session, code: 'ERR_PROTOCOL' });
      expect(sessionTypes(s)).toEqual([]);
      expect(r.bytes()).toBe(0);
    });

    it('a second answer for one file (skip, then resume) → ProtocolError', async () => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      r.send({ t: 'skip', id: m.session, i: 1 });
      r.send({ t: 'resume', id: m.session, i: 1, from: 1024, prefixSha256: FAKE });
      const err = await settleSession(s);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toMatch(/a second answer for file 1/);
      expect(r.bytes()).toBe(0);
    });

    it('resume from 0 before accept → ProtocolError', async () => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      r.send({ t: 'resume', id: m.session, i: 0, from: 0 });
      const err = await settleSession(s);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toMatch(/resume of file 0 at 0 before accept/);
      expect(r.bytes()).toBe(0);
    });

    it('resume past a file\'s end before accept → ProtocolError as it arrives, before any data moves (it came once that file started)', async () => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      const size = FILES[2].length;
      r.send({ t: 'resume', id: m.session, i: 2, from: size + 1, prefixSha256: FAKE });
      r.send({ t: 'accept', id: m.session });
      const err = await settleSession(s);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toBe(`receiver resumes at ${size + 1}, past the end of ${size} B`);
      expect(err.details).toMatchObject({ i: 2, from: size + 1 });
      expect(r.bytes()).toBe(0);
    });

    it('sendFile whose one file is skipped → `skipped` (no started, no completed), then it completes; no data sent', async () => {
      const r = receiver();
      const s = watch(sendFile(r.link.a, FILE, { channels: 1 }));
      const m = await r.offered();
      r.send({ t: 'skip', id: m.session, i: 0 });
      r.send({ t: 'accept', id: m.session });
      expect(await settle(s)).toBeUndefined();
      expect(types(s).filter((t) => t !== 'progress' && t !== 'stats')).toEqual(['skipped']);
      expect(s.events.at(-1)).toMatchObject({ type: 'skipped', manifest: { name: m.name, size: FILE.length } });
      await sleep(100);
      expect(r.frames).toEqual([]);
    });

    it('accept with every file skipped → the sender completes with no files and sends no data', async () => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      for (let i = 0; i < FILES.length; i++) r.send({ t: 'skip', id: m.session, i });
      r.send({ t: 'accept', id: m.session });
      expect(await settleSession(s)).toBeUndefined();
      expect(sessionTypes(s)).toEqual(['started', 'completed']);
      const done = s.events.find((e): e is Extract<SessionEvent, { type: 'completed' }> => e.type === 'completed')!;
      expect([done.files, done.bytes]).toEqual([[], 0]);
      // Nothing follows: no frames, no done.
      await sleep(100);
      expect(r.frames).toEqual([]);
      expect(r.received.filter((x) => x.t === 'done')).toEqual([]);
    });
  });

  describe('ack, nack and complete for files not in flight', () => {
    it.each(['ack', 'complete'] as const)('%s for a file not started yet (file 2, one file in flight) → ProtocolError', async (t) => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1, filesInFlight: 1 }));
      const [m] = await r.offeredSession();
      r.send({ t: 'accept', id: m.session });
      await r.next('done');
      r.send(t === 'ack' ? { t, id: m.session, i: 2, bytes: 0, queued: 0 } : { t, id: m.session, i: 2, sha256: SHAS[2] });
      const err = await settleSession(s);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toMatch(new RegExp(`'${t}' for file 2, which is not in flight`));
      expect(filesSeen(r, m.session).has(2)).toBe(false);
      expect(sessionTypes(s)).not.toContain('completed');
    });

    it.each(['ack', 'complete'] as const)('%s for a file already complete → ProtocolError', async (t) => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      r.send({ t: 'accept', id: m.session });
      await complete(r, m.session, 0);
      await eventually(() => s.events.some((e) => e.type === 'file-completed'), 'file-completed 0');
      r.send(t === 'ack' ? { t, id: m.session, i: 0, bytes: FILES[0].length, queued: 0 } : { t, id: m.session, i: 0, sha256: SHAS[0] });
      const err = await settleSession(s);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.message).toMatch(new RegExp(`'${t}' for file 0, which is not in flight`));
      expect(sessionTypes(s)).not.toContain('completed');
    });

    it('a late nack for a completed file is ignored: the session completes', async () => {
      const r = receiver();
      const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
      const [m] = await r.offeredSession();
      r.send({ t: 'accept', id: m.session });
      await complete(r, m.session, 0);
      r.send({ t: 'nack', id: m.session, i: 0, chunks: [0] });
      await complete(r, m.session, 1);
      await complete(r, m.session, 2);
      expect(await settleSession(s)).toBeUndefined();
      const done = s.events.find((e): e is Extract<SessionEvent, { type: 'completed' }> => e.type === 'completed')!;
      expect(done.files.map((f) => [f.manifest.index, f.sha256])).toEqual(SHAS.map((sha, i) => [i, sha]));
      // The NACK was not served: no frame of file 0 came again.
      expect(r.frames.filter((f) => fileOfFrame(m.session, f) === 0 && f.flags & 1)).toEqual([]);
    });
  });

  it('complete for file 1 with a made-up digest, after its done and every byte acked → HashMismatchError', async () => {
    const r = receiver();
    const s = watch(sendFiles(r.link.a, setOf(FILES), { channels: 1 }));
    const [m] = await r.offeredSession();
    r.send({ t: 'accept', id: m.session });
    await complete(r, m.session, 0);
    await r.when((got) => got.some((x) => x.t === 'done' && x.i === 1), 'done 1');
    r.send({ t: 'ack', id: m.session, i: 1, bytes: FILES[1].length, queued: 0 });
    r.send({ t: 'complete', id: m.session, i: 1, sha256: FAKE });
    const err = await settleSession(s);
    expect(err).toBeInstanceOf(HashMismatchError);
    expect(s.events.filter((e) => e.type === 'file-completed').map((e) => (e as { manifest: { index: number } }).manifest.index)).toEqual([0]);
    expect(sessionTypes(s)).not.toContain('completed');
  });

  it('never more than filesInFlight (2) files started and not complete: the third waits for a complete', async () => {
    const five = [0, 1, 2, 3, 4].map((i) => bytesOf(8 * KiB + i).map((b) => b ^ i));
    const r = receiver();
    const s = watch(sendFiles(r.link.a, setOf(five), { channels: 1, filesInFlight: 2 }));
    const [m] = await r.offeredSession();
    expect(m.parallel).toBe(2);
    r.send({ t: 'accept', id: m.session });
    /** Files started by the sender (event) and not yet completed (event): never more than two. */
    const inFlight = () => {
      let n = 0;
      let most = 0;
      for (const e of s.events) {
        if (e.type === 'file-started') most = Math.max(most, ++n);
        if (e.type === 'file-completed') n--;
      }
      return most;
    };
    for (let completed = 0; completed < five.length; completed++) {
      // Withholding complete: the sender sends files completed … completed + 1 and nothing more.
      const expected = [0, 1, 2, 3, 4].filter((i) => i < completed + 2);
      await r.when((got) => expected.every((i) => got.some((x) => x.t === 'done' && x.i === i)), `done of files ${expected}`);
      await sleep(150);
      expect([...filesSeen(r, m.session)].sort((a, b) => a - b)).toEqual(expected);
      expect(inFlight()).toBeLessThanOrEqual(2);
      await complete(r, m.session, completed);
    }
    expect(await settleSession(s)).toBeUndefined();
    expect(sessionTypes(s).at(-1)).toBe('completed');
    expect(inFlight()).toBe(2);
  });
});

describe('a receiver that NACKs one chunk without end (virtual time)', () => {
  // An outside check NACKed a whole window every 5 ms and acked one byte every 10 s: the sender sent 238 copies of
  // each chunk in a minute, and the acks kept the idle timeout away. Each chunk is now sent again for NACKs at most
  // MAX_NACKED_COPIES times; the next NACK answered fails the transfer.
  it(`the ${MAX_NACKED_COPIES + 1}th NACK answered for chunk 0 fails the sender with ProtocolError; it sent ${MAX_NACKED_COPIES} copies again`, () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    let failure: (Error & { details?: Record<string, unknown> }) | undefined;
    let r!: HostileReceiver;
    ts.run(({ flush }) => {
      r = receiver({ delayMs: 2, scheduler: ts });
      r.onControl = (msg) => {
        if (msg.t !== 'entry') return;
        r.openData({ channels: 1, idBase: (r.received.find((m) => m.t === 'offer') as { idBase: number }).idBase, reliability: 'reliable' });
        r.send({ t: 'accept', id: msg.id });
      };
      // Every copy of chunk 0 is NACKed as it arrives, and nothing is ever acknowledged.
      r.onFrame = (f) => f.index === 0 && r.send({ t: 'nack', id: (r.received.find((m) => m.t === 'offer') as { id: number }).id, i: 0, chunks: [0] });
      sendFile(r.link.a, FILE, { channels: 1, scheduler: ts, idleTimeoutMs: 60_000 }).subscribe({ error: (e) => (failure = e) });
      flush();
    });
    expect(failure).toBeInstanceOf(ProtocolError);
    expect(failure!.message).toMatch(new RegExp(`^chunk 0 of .* NACKed over ${MAX_NACKED_COPIES} times$`));
    expect(failure!.details).toMatchObject({ index: 0, copies: MAX_NACKED_COPIES + 1 });
    expect(r.frames.filter((f) => f.index === 0).length).toBe(1 + MAX_NACKED_COPIES);
  });
});
