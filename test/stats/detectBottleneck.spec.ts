import { describe, expect, it } from 'vitest';
import { detectBottleneck } from '../../src/stats/detectBottleneck';
import type { Bottleneck, TransferSignals } from '../../src/stats/statsTypes';

/** Five samples of a healthy, unblocked transfer at 100 Mbit/s on a 2 ms path. */
const base: TransferSignals = { samples: 5, throughputBps: 100e6, throughputCv: 0.05, rttMs: 2, rttMinMs: 2, bufferFullShare: 0, lanes: 1 };

describe('detectBottleneck', () => {
  it.each<[string, Partial<TransferSignals>, Bottleneck]>([
    ['healthy and unblocked: none', {}, 'none'],
    ['done wins over everything', { done: true, cpuBusy: 1, bufferFullShare: 1 }, 'none'],
    ['one sample: unknown', { samples: 1 }, 'unknown'],
    ['no buffer reports: unknown', { bufferFullShare: undefined }, 'unknown'],
    ['stalled, nothing blocked: unknown', { throughputBps: 0, throughputCv: undefined }, 'unknown'],
    // receiver
    ['receiver backlog growing by 2 MB/s at 100 Mbit/s', { receiverGrowthBps: 2e6, receiverQueuedBytes: 8e6 }, 'receiver'],
    ['receiver backlog growing by 1 MB/s (8 % of 100 Mbit/s): not enough', { receiverGrowthBps: 1e6, receiverQueuedBytes: 8e6 }, 'none'],
    ['receiver backlog shrinking', { receiverGrowthBps: -5e6, receiverQueuedBytes: 8e6 }, 'none'],
    ['receiver beats cpu', { receiverGrowthBps: 5e6, receiverQueuedBytes: 1, cpuBusy: 0.95 }, 'receiver'],
    // cpu
    ['event loop 95 % busy', { cpuBusy: 0.95 }, 'cpu'],
    ['event loop exactly 90 %: not cpu', { cpuBusy: 0.9 }, 'none'],
    ['cpu beats blocked buffers', { cpuBusy: 0.99, bufferFullShare: 1 }, 'cpu'],
    // blocked branch
    ['blocked, flat, low RTT, no loss: backpressure', { bufferFullShare: 0.8 }, 'backpressure'],
    ['blocked exactly half: still blocked', { bufferFullShare: 0.5 }, 'backpressure'],
    ['blocked but fluctuating: unknown', { bufferFullShare: 1, throughputCv: 0.6 }, 'unknown'],
    ['blocked with 1 % loss: network-bandwidth', { bufferFullShare: 1, lossRate: 0.01, throughputCv: 0.6 }, 'network-bandwidth'],
    ['blocked with 0.5 % loss: not congestion', { bufferFullShare: 1, lossRate: 0.005 }, 'backpressure'],
    ['blocked with queueing delay 2 → 40 ms: network-bandwidth', { bufferFullShare: 1, rttMs: 40, rttMinMs: 2, throughputBps: 20e6 }, 'network-bandwidth'],
    ['RTT 1.5 × base but only 3 ms more: no queueing', { bufferFullShare: 1, rttMs: 9, rttMinMs: 6 }, 'backpressure'],
    ['blocked at 80 ms, throughput at the 40 Mbit/s window ceiling: network-latency', { bufferFullShare: 1, rttMs: 80, rttMinMs: 78, throughputBps: 39e6 }, 'network-latency'],
    ['same, two lanes: ceiling 80 Mbit/s, 39 is below 70 % of it', { bufferFullShare: 1, rttMs: 80, rttMinMs: 78, throughputBps: 39e6, lanes: 2 }, 'backpressure'],
    ['same, window 1 MB: ceiling 100 Mbit/s', { bufferFullShare: 1, rttMs: 80, rttMinMs: 78, throughputBps: 39e6, windowBytes: 1e6 }, 'backpressure'],
    ['window-limited throughput at 15 ms RTT is not latency', { bufferFullShare: 1, rttMs: 15, rttMinMs: 15, throughputBps: 200e6 }, 'backpressure'],
    ['unblocked with high RTT and loss: none (the transport takes all we offer)', { rttMs: 150, rttMinMs: 150, lossRate: 0.05 }, 'none'],
  ])('%s', (_name, over, expected) => {
    expect(detectBottleneck({ ...base, ...over })).toBe(expected);
  });
});
