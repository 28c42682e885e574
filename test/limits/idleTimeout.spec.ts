/**
 * Limit: a sender that stops mid-way but keeps the connection open hits the
 * receiver's `idleTimeout`: the receiver fails with IdleTimeoutError (and tells
 * the sender), instead of waiting forever with the file half written.
 */
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { IdleTimeoutError, receiveFile, sendFile, TallowError, type FileDescriptor } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';
import { HostileSender, manifestOf, watch } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';

const expectIdle = (err: unknown, timeoutMs: number) => {
  expect(err).toBeInstanceOf(IdleTimeoutError);
  expect((err as IdleTimeoutError).details).toMatchObject({ timeoutMs, side: 'receiver' });
};

describe('limit: idleTimeout', () => {
  it('a silent sender (some chunks, then nothing at all) → IdleTimeoutError, and the sender is told', async () => {
    const s = closeAfter(new HostileSender());
    const m = manifestOf({ size: 64 * 1024, chunk: { min: 4096, max: 4096 } });
    const r = watch(receiveFile(s.link.b, { idleTimeoutMs: 300 }));
    await s.handshake(m);
    for (let i = 0; i < 4; i++) s.frame(m.id, i, i * 4096, new Uint8Array(4096));
    const t0 = performance.now();
    await r.settled;
    expectIdle(r.error(), 300);
    // Not before the timeout (a sanity bound on when, not a performance figure).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    const told = await s.next('error');
    expect(told.code).toBe('ERR_IDLE_TIMEOUT');
  });

  it('a sender that keeps pinging but sends no data → IdleTimeoutError (pings prove liveness, not progress)', async () => {
    const s = closeAfter(new HostileSender());
    const m = manifestOf({ size: 64 * 1024 });
    const r = watch(receiveFile(s.link.b, { idleTimeoutMs: 400 }));
    await s.handshake(m);
    s.frame(m.id, 0, 0, new Uint8Array(4096));
    let n = 0;
    const pinger = setInterval(() => s.control.readyState === 'open' && s.send({ t: 'ping', n: n++, ts: Date.now() }), 50);
    try {
      await r.settled;
    } finally {
      clearInterval(pinger);
    }
    expectIdle(r.error(), 400);
    expect(n).toBeGreaterThan(5);
  });

  it('a real sendFile whose source stalls after 64 KiB → IdleTimeoutError at the receiver, a typed error at the sender', async () => {
    const { dir } = await inbox();
    const link = closeAfter(createVirtualLink());
    // A file that yields its first 64 KiB and then never another byte, nor an end.
    const stalled: FileDescriptor = {
      name: 'stalled.bin',
      size: 1024 * 1024,
      type: 'application/octet-stream',
      seekable: false,
      read: () => new Observable<Uint8Array>((subscriber) => subscriber.next(new Uint8Array(64 * 1024).fill(9))),
    };
    // 1500 ms spans the sender's 1 s pings: the receiver must time out anyway.
    const r = watch(receiveFile(link.b, { idleTimeoutMs: 1500, target: directoryTarget(dir) }));
    const s = watch(sendFile(link.a, stalled, { idleTimeoutMs: 60_000 }));
    await r.settled;
    expectIdle(r.error(), 1500);
    expect(r.events.some((e) => e.type === 'started')).toBe(true);
    await s.settled;
    expect(s.error()).toBeInstanceOf(TallowError);
    expect((s.error() as TallowError).code).toBe('ERR_IDLE_TIMEOUT');
  });
});
