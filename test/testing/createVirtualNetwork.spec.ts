/** createVirtualNetwork: the shared bottleneck (rate, drop-tail queue, random loss) and each lane's AIMD window. */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { createVirtualNetwork, type VirtualNetwork, type VirtualNetworkConfig } from '../../src/testing';
import { testScheduler } from '../helpers/marbles';
import { pumpLane } from './lanePump';
import { thrownBy } from '../helpers/thrown';

/** Runs `body` in virtual time on a fresh network; the network closes at `stopAt` ms so the run ends. */
const virtual = (config: VirtualNetworkConfig, body: (net: VirtualNetwork, now: () => number) => void, stopAt = 60_000): VirtualNetwork => {
  const scheduler = testScheduler();
  let net!: VirtualNetwork;
  scheduler.run(() => {
    net = createVirtualNetwork({ ...config, scheduler });
    body(net, () => scheduler.now());
    scheduler.schedule(() => net.close(), stopAt);
  });
  return net;
};

const balance = (s: { messagesSent: number; messagesDelivered: number; messagesDuplicated: number; messagesDropped: number; messagesDiscarded: number; messagesUndeliverable: number; messagesPending: number }) =>
  s.messagesDelivered - s.messagesDuplicated + s.messagesDropped + s.messagesDiscarded + s.messagesUndeliverable + s.messagesPending;

/** Goodput of `lanes` pumped lanes over `seconds`, and the network's counters. */
const pumped = (config: VirtualNetworkConfig, lanes: number, seconds = 20) => {
  let bytes = 0;
  let stats!: ReturnType<VirtualNetwork['stats']>;
  virtual(config, (net) => {
    const pumps = Array.from({ length: lanes }, () => pumpLane(net.createLink()));
    net.config.scheduler.schedule(() => {
      bytes = pumps.reduce((sum, p) => sum + p.received(), 0);
      stats = net.stats();
    }, seconds * 1000);
  }, seconds * 1000);
  return { goodput: bytes / seconds, stats };
};

describe('createVirtualNetwork', () => {
  it('forwards segments at the bottleneck rate; queued bytes add delay to the RTT', () => {
    // 100-byte segments at 10,000 B/s take 10 ms each; one way is 10 ms.
    const arrivals: number[] = [];
    let rtts: (number | undefined)[] = [];
    virtual({ rateBytesPerSecond: 10_000, mssBytes: 100, initialWindowBytes: 1000, queueBytes: 1000, delayMs: 10 }, (net, now) => {
      const link = net.createLink();
      const [local, remote] = link.createChannel('data');
      remote.onmessage = () => arrivals.push(now());
      local.onopen = () => local.send(new Uint8Array(1000)); // ten segments, all queued at once
      net.config.scheduler.schedule(() => void (rtts = [link.stats().association?.minRttMs, link.stats().association?.rttMs]), 200);
    }, 1000);
    // The tenth segment leaves the queue at 100 ms and arrives 10 ms later.
    expect(arrivals).toEqual([110]);
    // The first segment's round trip: 10 ms at the queue + 20 ms; the last one's waited 90 ms more.
    expect(rtts).toEqual([30, 120]);
  });

  it('drops at the tail of a full queue, halves the window and sends the segments again', () => {
    let early!: ReturnType<VirtualNetwork['stats']>;
    let delivered = 0;
    const net = virtual({ rateBytesPerSecond: 10_000, mssBytes: 100, initialWindowBytes: 1000, queueBytes: 300, delayMs: 10 }, (n) => {
      const [local, remote] = n.createLink().createChannel('data');
      local.onopen = () => local.send(new Uint8Array(1000));
      remote.onmessage = (e: MessageEvent) => void (delivered += (e.data as ArrayBuffer).byteLength);
      // Before the first loss is noticed (the dropped segments' turn at the queue, 40 ms, plus a round trip).
      n.config.scheduler.schedule(() => void (early = n.stats()), 45);
    }, 5000);
    expect(early.queueDrops).toBe(7); // ten segments at once, three fit in 300 bytes
    expect(early.maxQueuedBytes).toBe(300);
    expect(early.lanes[0]).toMatchObject({ windowHalvings: 0, windowBytes: 1200, slowStartThresholdBytes: Infinity }); // two acks (30, 40 ms) of slow start
    const s = net.stats();
    expect(delivered).toBe(1000);
    // The seven go again into a window halved to 650 bytes: three fit the queue, and so on.
    expect(s.lanes[0].retransmissions).toBe(s.queueDrops);
    expect(s.lanes[0].windowHalvings).toBeGreaterThanOrEqual(1);
    expect(s.lanes[0]).toMatchObject({ inFlightBytes: 0, bytesAcked: 1000 });
  });

  it('delivers an ordered channel in order when a segment of an earlier message is lost, and balances its counters', () => {
    const got: number[] = [];
    let sentStats!: ReturnType<VirtualNetwork['stats']>;
    const net = virtual({ rateBytesPerSecond: 100_000, mssBytes: 100, queueBytes: 10_000, delayMs: 5, lossRate: 0.2, seed: 7 }, (n) => {
      const link = n.createLink();
      const [local, remote] = link.createChannel('data');
      remote.onmessage = (e: MessageEvent) => got.push(new Uint8Array(e.data as ArrayBuffer)[0]);
      local.onopen = () => {
        for (let i = 0; i < 50; i++) local.send(new Uint8Array(250).fill(i));
      };
      n.config.scheduler.schedule(() => {
        sentStats = n.stats();
        const s = link.stats();
        expect(s.messagesSent).toBe(balance(s));
        expect(s.messagesRetransmitted).toBeGreaterThan(0);
      }, 10_000);
    }, 10_000);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(sentStats.randomLosses).toBeGreaterThan(10);
    expect(net.stats().lanes[0].windowHalvings).toBeGreaterThan(0);
  });

  it('drops the message of a lost segment on an unreliable channel; the counters balance', () => {
    let stats: any;
    virtual({ rateBytesPerSecond: 100_000, mssBytes: 100, delayMs: 5, lossRate: 0.1, seed: 3 }, (n) => {
      const link = n.createLink();
      const [local] = link.createChannel('data', { ordered: false, maxRetransmits: 0 });
      local.onopen = () => {
        for (let i = 0; i < 100; i++) local.send(new Uint8Array(300));
      };
      n.config.scheduler.schedule(() => (stats = link.stats()), 5000);
    }, 5000);
    expect(stats.messagesDropped).toBeGreaterThan(0);
    expect(stats.bytesDropped).toBe(300 * stats.messagesDropped);
    expect(stats.messagesRetransmitted).toBe(0);
    expect(stats.messagesDelivered + stats.messagesDropped).toBe(100);
    expect(stats.messagesSent).toBe(balance(stats));
  });

  it('keeps one lane on a lossy path near mss × 1.22 / (RTT × √loss)', () => {
    const bound = (1200 * 1.22) / (0.1 * Math.sqrt(0.01)); // 146,400 B/s at 100 ms and 1 %
    const { goodput, stats } = pumped({ rateBytesPerSecond: 1_250_000, delayMs: 50, lossRate: 0.01 }, 1, 30);
    expect(goodput).toBeGreaterThan(0.8 * bound);
    expect(goodput).toBeLessThan(1.5 * bound);
    expect(stats.queueDrops).toBe(0); // far below the link rate: the queue never fills
  });

  it('lets 16 lanes started together overflow the queue and inflate the RTT', () => {
    const config = { rateBytesPerSecond: 1_250_000, queueBytes: 65_536, delayMs: 50, lossRate: 0.01 };
    const eight = pumped(config, 8);
    const sixteen = pumped(config, 16);
    expect(sixteen.stats.queueDrops).toBeGreaterThan(3 * eight.stats.queueDrops);
    expect(sixteen.stats.maxQueuedBytes).toBe(65_536);
    const meanRtt = (s: typeof eight.stats) => s.lanes.reduce((sum, l) => sum + l.smoothedRttMs!, 0) / s.lanes.length;
    expect(meanRtt(sixteen.stats)).toBeGreaterThan(1.25 * meanRtt(eight.stats));
    expect(sixteen.stats.lanes).toHaveLength(16);
  });

  it('gives each lane its own window (link.stats().association), and keeps the VirtualLink API', () => {
    virtual({ delayMs: 10 }, (net) => {
      const [x, y] = [net.createLink(), net.createLink()];
      expect(x.stats().association).toMatchObject({ lane: 0, windowBytes: 4800, inFlightBytes: 0, segmentsSent: 0 });
      expect(y.stats().association?.lane).toBe(1);
      const [locals, remotes] = y.createChannels(2, { label: 'lane' });
      expect(remotes.map((r) => r.label)).toEqual(['lane-0', 'lane-1']);
      const a = y.a.createDataChannel('n', { negotiated: true, id: 5 });
      const b = y.b.createDataChannel('n', { negotiated: true, id: 5 });
      b.onmessage = (e: MessageEvent) => expect(e.data).toBe('hi');
      a.onopen = () => a.send('hi');
      locals[0].onopen = () => locals[0].send(new Uint8Array(10));
      net.config.scheduler.schedule(() => expect(y.stats().aToB.messagesDelivered).toBe(2), 100);
    }, 200);
  });

  it('reports the virtual peer RTT through getStats (queueing included)', () => {
    let rtt = 0;
    virtual({ rateBytesPerSecond: 10_000, mssBytes: 100, initialWindowBytes: 1000, delayMs: 10 }, (net) => {
      const link = net.createLink();
      const [local] = link.createChannel('data');
      local.onopen = () => local.send(new Uint8Array(1000));
      net.config.scheduler.schedule(() => {
        link.a.getStats().then((report) => report.forEach((r) => (rtt = r.currentRoundTripTime as number)));
      }, 500);
    }, 1000);
    expect(rtt).toBeGreaterThan(0.02); // the smoothed RTT of queued segments, not 2 × delayMs
  });

  it.each([
    [{ rateBytesPerSecond: 0 }, 'rateBytesPerSecond'],
    [{ queueBytes: 100, mssBytes: 1200 }, 'queueBytes'],
    [{ mssBytes: 1.5 }, 'mssBytes'],
    [{ lossRate: 1 }, 'lossRate'],
    [{ delayMs: -1 }, 'delayMs'],
    [{ maxWindowBytes: 10 }, 'maxWindowBytes'],
    [{ initialWindowBytes: Infinity }, 'initialWindowBytes'],
  ] as [VirtualNetworkConfig, string][])('rejects %o with InvalidConfigError naming %s', (config, field) => {
    expect(() => createVirtualNetwork(config)).toThrow(InvalidConfigError);
    try {
      createVirtualNetwork(config);
    } catch (err) {
      expect((err as InvalidConfigError).details.field).toBe(field);
    }
  });
});

describe('createVirtualNetwork: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => createVirtualNetwork(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'createVirtualNetwork: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
