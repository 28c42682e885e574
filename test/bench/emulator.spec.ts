/**
 * The link emulator for real: its scheduling loop, candidate rewriting, plain
 * UDP datagrams counted through it, and WebRTC peers (node-datachannel) behind
 * it, all on 127.0.0.1. The bounds check that the emulator imposes what it is
 * told (RTT, loss, rate); they are not performance targets of the library.
 */
import { createSocket, type Socket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { connectThroughEmulator, isRelayableCandidate, rewriteCandidate, rewriteSdp } from '../../bench/emulator/emulatedSignalling';
import { startLinkEmulator, type LinkEmulator } from '../../bench/emulator/LinkEmulator';
import { symmetricLink, type LinkConfig } from '../../bench/emulator/linkConfig';
import { ReleaseQueue } from '../../bench/emulator/ReleaseQueue';
import { rtt$ } from '../../src/stats/rtt$';
import type { PeerConnectionLike } from '../../src/types';
import { createNegotiatedChannels, waitForOpen } from '../harness/channels';
import { createNodePeerConnection } from '../harness/nodePeers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ReleaseQueue', () => {
  it('releases in time order, FIFO among equal times, never early', async () => {
    const released: Array<{ item: number; at: number; due: number }> = [];
    const due = new Map<number, number>();
    const q = new ReleaseQueue<number>((item) => released.push({ item, at: performance.now(), due: due.get(item)! }));
    const t0 = performance.now();
    const plan = [
      [0, 12],
      [1, 3],
      [2, 3],
      [3, 0],
      [4, 7.5],
      [5, 0.2],
    ];
    for (const [item, delay] of plan) {
      due.set(item, t0 + delay);
      q.push(t0 + delay, item);
    }
    while (q.size) await sleep(5);
    expect(released.map((r) => r.item)).toEqual([3, 5, 1, 2, 4, 0]);
    for (const r of released) expect(r.at).toBeGreaterThanOrEqual(r.due);
    const late = q.lateness();
    expect(late.count).toBe(6);
    expect(late.maxMs).toBeGreaterThanOrEqual(late.p50Ms - 0.01);
    q.close();
  });

  it('close() drops what it holds and stops', async () => {
    const released: number[] = [];
    const q = new ReleaseQueue<number>((i) => released.push(i));
    q.push(performance.now() + 5, 1);
    q.close();
    q.push(performance.now(), 2);
    await sleep(20);
    expect(released).toEqual([]);
    expect(q.size).toBe(0);
  });
});

describe('candidate rewriting', () => {
  const host = 'candidate:1 1 UDP 2114977791 127.0.0.1 52842 typ host';

  it('swaps the port of a UDP 127.0.0.1 host candidate and reports the real one', () => {
    expect(rewriteCandidate(`a=${host}`, 40000)).toEqual({ candidate: 'candidate:1 1 UDP 2114977791 127.0.0.1 40000 typ host', realPort: 52842 });
  });

  it.each([
    'candidate:2 1 TCP 2114977791 127.0.0.1 9 typ host tcptype active',
    'candidate:3 1 UDP 2114977791 192.168.1.4 52842 typ host',
    'candidate:4 1 UDP 1677729535 127.0.0.1 52842 typ srflx raddr 0.0.0.0 rport 0',
    'candidate:5 1 UDP 2114977791 abcd.local 52842 typ host',
  ])('refuses %s', (candidate) => {
    expect(isRelayableCandidate(candidate)).toBe(false);
    expect(rewriteCandidate(candidate, 1)).toBeUndefined();
  });

  it('rewrites candidates inside SDP and drops the ones it cannot relay', () => {
    const learned: number[] = [];
    const sdp = ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=${host}`, 'a=candidate:3 1 UDP 2114977791 10.0.0.2 5000 typ host', 'a=end-of-candidates', ''].join('\r\n');
    expect(rewriteSdp(sdp, 40001, (p) => learned.push(p))).toBe(
      ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=candidate:1 1 UDP 2114977791 127.0.0.1 40001 typ host', 'a=end-of-candidates', ''].join('\r\n'),
    );
    expect(learned).toEqual([52842]);
  });
});

/** Two plain UDP sockets standing in for peers A and B, joined through one emulator path. */
async function udpPair(emulator: LinkEmulator) {
  const open = () =>
    new Promise<Socket>((resolve) => {
      const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      s.bind(0, '127.0.0.1', () => resolve(s));
    });
  const [a, b] = await Promise.all([open(), open()]);
  const path = await emulator.addPath();
  await emulator.learn(path.id, 'a', a.address().port);
  await emulator.learn(path.id, 'b', b.address().port);
  // Arrival times (performance.now) and first bytes of what B received.
  const arrivals: Array<{ at: number; seq: number; sentAt: number; size: number }> = [];
  b.on('message', (m) => arrivals.push({ at: performance.now(), seq: m.readUInt32BE(0), sentAt: m.readDoubleBE(4), size: m.length }));
  const send = (seq: number, size: number) => {
    const m = Buffer.alloc(size);
    m.writeUInt32BE(seq, 0);
    m.writeDoubleBE(performance.now(), 4);
    a.send(m, path.portFacingA, '127.0.0.1');
  };
  const close = () => Promise.all([a, b].map((s) => new Promise<void>((r) => s.close(() => r()))));
  return { send, arrivals, close };
}

/** Sends `count` datagrams, `perTick` at a time every ms, then waits `settleMs`. */
async function blast(pair: Awaited<ReturnType<typeof udpPair>>, count: number, size: number, perTick: number, settleMs: number) {
  for (let i = 0; i < count; i++) {
    pair.send(i, size);
    if (i % perTick === perTick - 1) await sleep(1);
  }
  await sleep(settleMs);
}

describe('link emulator with plain UDP datagrams (child process)', () => {
  let emulator: LinkEmulator | undefined;
  afterAll(async () => {
    await emulator?.close();
  });

  it('delays every datagram by at least the one-way delay, keeps order under jitter, and drops the configured share', async () => {
    const config: LinkConfig = { aToB: { delayMs: 15, jitterMs: 4, lossRate: 0.1 }, seed: 11 };
    emulator = await startLinkEmulator(config);
    const pair = await udpPair(emulator);
    const sent = 4000;
    // Arrivals are stamped when this process gets to them: on a loaded machine that is late by
    // this event loop's delay, which the upper bound below allows for (it is not the emulator's).
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    await blast(pair, sent, 200, 40, 200);
    loopDelay.disable();
    const stats = await emulator.stats();
    const got = pair.arrivals.length;
    // Every datagram is accounted for: delivered, or dropped by the emulator (or, visibly, the kernel).
    expect(got + stats.aToB.lostRandom + stats.aToB.lostQueue + stats.kernelDropsEmulator + stats.kernelDropsPeers).toBe(sent);
    expect(stats.aToB.datagramsOut).toBe(got);
    // loss 0.1 of 4000: mean 400, σ ≈ 19; ±5σ
    expect(stats.aToB.lostRandom).toBeGreaterThan(400 - 95);
    expect(stats.aToB.lostRandom).toBeLessThan(400 + 95);
    // never early (the configured delay minus the 4 ms jitter), and in order
    const oneWay = pair.arrivals.map((a) => a.at - a.sentAt);
    expect(Math.min(...oneWay)).toBeGreaterThanOrEqual(15 - 4);
    const seqs = pair.arrivals.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const median = [...oneWay].sort((x, y) => x - y)[oneWay.length >> 1];
    expect(median).toBeGreaterThan(12);
    const lagMs = loopDelay.percentile(99) / 1e6;
    // How late datagrams may arrive depends on the machine's load (this loop's and the emulator's), so it is
    // reported here and measured by the benchmarks, not asserted: the emulator's promises are "never early",
    // order and the loss count above.
    console.info(`[emulator] 15 ms ± 4 ms: one-way median ${median.toFixed(2)} ms; emulator release lateness p50 ${stats.lateness.p50Ms} ms, p99 ${stats.lateness.p99Ms} ms; receiving loop delay p99 ${lagMs.toFixed(1)} ms`);
    await pair.close();
    await emulator.close();
    emulator = undefined;
  });

  it('reorders when told to', async () => {
    emulator = await startLinkEmulator({ aToB: { delayMs: 2, reorder: 0.2, reorderGapMs: 5 }, seed: 3 });
    const pair = await udpPair(emulator);
    await blast(pair, 500, 100, 10, 100);
    const seqs = pair.arrivals.map((a) => a.seq);
    let inversions = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) inversions++;
    expect(seqs).toHaveLength(500);
    expect(inversions).toBeGreaterThan(10);
    expect((await emulator.stats()).aToB.reordered).toBeGreaterThan(50);
    await pair.close();
    await emulator.close();
    emulator = undefined;
  });

  it('paces datagrams at the rate limit and tail-drops what overflows the queue', async () => {
    // 8 Mbit/s = 1 MB/s; queue 100 kB. 1500 × 1000 B offered at ~10 MB/s.
    emulator = await startLinkEmulator({ aToB: { rateBps: 8e6, queueBytes: 100_000 } });
    const pair = await udpPair(emulator);
    await blast(pair, 1500, 1000, 10, 300);
    const stats = await emulator.stats();
    const got = pair.arrivals;
    expect(got.length + stats.aToB.lostQueue + stats.kernelDropsEmulator + stats.kernelDropsPeers).toBe(1500);
    expect(stats.aToB.lostQueue).toBeGreaterThan(500);
    expect(stats.aToB.maxQueueBytes).toBeLessThanOrEqual(100_000);
    expect(stats.aToB.maxQueueBytes).toBeGreaterThan(90_000);
    // Rate over the arrivals after the first (the bucket lets a burst through): wire bytes / span.
    const span = (got[got.length - 1].at - got[0].at) / 1000;
    const wireBits = (got.length - 1) * 1028 * 8;
    const rate = wireBits / span;
    console.info(`[emulator] 8 Mbit/s limit: ${(rate / 1e6).toFixed(2)} Mbit/s measured from ${got.length} datagrams, ${stats.aToB.lostQueue} tail-dropped`);
    // The limit is enforced: never faster. How close to it a loaded machine gets is a benchmark figure.
    expect(rate).toBeLessThan(8e6 * 1.1);
    await pair.close();
    await emulator.close();
    emulator = undefined;
  });
});

/** Connects a node-datachannel pair through `emulator` and opens one negotiated channel. */
async function webrtcPair(emulator: LinkEmulator) {
  const a = createNodePeerConnection();
  const b = createNodePeerConnection();
  await connectThroughEmulator(a, b, emulator);
  const [tx] = createNegotiatedChannels(a, [0], {});
  const [rx] = createNegotiatedChannels(b, [0], {});
  await Promise.all([waitForOpen(tx), waitForOpen(rx)]);
  return { a, b, tx, rx, close: () => (a.close(), b.close()) };
}

/** Sends `total` bytes in 64 KiB messages, keeping at most 1 MiB buffered; resolves with Mbit/s of payload at the receiver. */
function bulk(tx: RTCDataChannel, rx: RTCDataChannel, total: number): Promise<number> {
  const message = new Uint8Array(64 * 1024);
  return new Promise((resolve) => {
    let got = 0;
    let sent = 0;
    const started = performance.now();
    const pump = () => {
      while (sent < total && tx.bufferedAmount < 1 << 20) {
        tx.send(message);
        sent += message.length;
      }
    };
    const poll = setInterval(pump, 5);
    rx.onmessage = (e) => {
      got += (e.data as ArrayBuffer).byteLength;
      if (got >= total) {
        clearInterval(poll);
        resolve((total * 8) / ((performance.now() - started) * 1000));
      }
    };
    tx.bufferedAmountLowThreshold = 256 * 1024;
    tx.onbufferedamountlow = pump;
    pump();
  });
}

describe('WebRTC peers behind the emulator (node-datachannel, child-process emulator)', () => {
  const closers: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('getStats() reports at least the configured 40 ms RTT (-20%)', async () => {
    const emulator = await startLinkEmulator(symmetricLink({ rttMs: 40 }));
    closers.push(() => emulator.close());
    const { a, tx, close } = await webrtcPair(emulator);
    closers.push(close);
    // SCTP measures RTT from acknowledged data: keep some flowing, let the smoothed RTT settle, then read it.
    // Two packets per tick: SCTP acknowledges every second packet at once, so delayed SACKs do not inflate the estimate.
    const ticker = setInterval(() => {
      tx.send(new Uint8Array(1000));
      tx.send(new Uint8Array(1000));
    }, 5);
    await sleep(1000);
    const rtt = await firstValueFrom(rtt$(a as unknown as PeerConnectionLike, { sampleIntervalMs: 100 }).pipe(filter((ms) => ms > 0), timeout(10_000)));
    clearInterval(ticker);
    console.info(`[emulator] 40 ms configured: getStats() RTT ${rtt} ms`);
    // the datagrams really went through the relay, both ways
    const stats = await emulator.stats();
    expect(stats.aToB.datagramsOut).toBeGreaterThan(50);
    expect(stats.bToA.datagramsOut).toBeGreaterThan(50);
    // The configured delay is enforced, so the RTT is never below it; how far above it a loaded machine reads
    // (it read 50 ms once under the full suite) is for the benchmarks.
    expect(rtt).toBeGreaterThanOrEqual(32);
  });

  it('a bulk transfer under a 20 Mbit/s limit never exceeds it (+20%)', async () => {
    const emulator = await startLinkEmulator(symmetricLink({ rateMbps: 20, rttMs: 2 }));
    closers.push(() => emulator.close());
    const { tx, rx, close } = await webrtcPair(emulator);
    closers.push(close);
    const mbps = await bulk(tx, rx, 4 * 1024 * 1024);
    const stats = await emulator.stats();
    console.info(
      `[emulator] 20 Mbit/s limit: ${mbps.toFixed(1)} Mbit/s of payload; ${stats.aToB.lostQueue} datagrams tail-dropped, max queue ${Math.round(stats.aToB.maxQueueBytes)} B`,
    );
    // Never above the limit; how close to it the transfer gets under load is a benchmark figure.
    expect(mbps).toBeGreaterThan(0);
    expect(mbps).toBeLessThan(24);
  });

  it('reports the throughput through an unlimited emulator (its own overhead)', async () => {
    const emulator = await startLinkEmulator({});
    closers.push(() => emulator.close());
    const { tx, rx, close } = await webrtcPair(emulator);
    closers.push(close);
    const mbps = await bulk(tx, rx, 32 * 1024 * 1024);
    const stats = await emulator.stats();
    console.info(
      `[emulator] unlimited: ${mbps.toFixed(0)} Mbit/s of payload through the relay; ${stats.aToB.datagramsOut} datagrams, loop lateness p50 ${stats.lateness.p50Ms} ms p99 ${stats.lateness.p99Ms} ms, kernel drops ${stats.kernelDropsEmulator}/${stats.kernelDropsPeers}`,
    );
    expect(stats.aToB.bytesOut).toBeGreaterThan(32 * 1024 * 1024);
    expect(stats.aToB.lostRandom + stats.aToB.lostQueue).toBe(0);
    expect(mbps).toBeGreaterThan(0);
  });
});
