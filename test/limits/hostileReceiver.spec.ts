/**
 * Limits on the sender: a receiver that lies (a `complete` for data never sent, acks beyond the file,
 * a second `accept`), stalls (pongs but no acks), NACKs a chunk only once, or sends garbage. The sender
 * never reports success it cannot prove, never idles forever, and always tells the peer why it stopped.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { IdleTimeoutError, MAX_CONTROL_MESSAGE, ProtocolError, sendFile, type TransferEvent } from '../../src/index';
import { HostileReceiver } from './hostileReceiver';
import { watch, within, type Watched } from './hostileSender';

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
