import { describe, expect, it } from 'vitest';
import { qualityScore } from '../../src/stats/qualityScore';
import type { TransferSignals } from '../../src/stats/statsTypes';

describe('qualityScore', () => {
  it.each<[string, Partial<TransferSignals>, number]>([
    ['no evidence: 100', {}, 100],
    ['RTT 20 ms is free', { rttMs: 20 }, 100],
    ['RTT 70 ms: −5', { rttMs: 70 }, 95],
    ['RTT capped at −30', { rttMs: 5000 }, 70],
    ['loss 1 %: −20', { lossRate: 0.01 }, 80],
    ['loss capped at −40', { lossRate: 0.5 }, 60],
    ['jitter 20 ms: −5', { jitterMs: 20 }, 95],
    ['jitter capped at −15', { jitterMs: 1000 }, 85],
    ['throughput CV 0.1: −3', { throughputCv: 0.1 }, 97],
    ['CV capped at −15', { throughputCv: 3 }, 85],
    ['everything bad at once: floor of the caps', { rttMs: 5000, lossRate: 1, jitterMs: 1000, throughputCv: 3 }, 0],
    ['rounding: RTT 25 ms is −0.5 → 100 (round half up)', { rttMs: 25 }, 100],
    ['rounding: RTT 26 ms is −0.6 → 99', { rttMs: 26 }, 99],
    ['garbage is no evidence', { rttMs: NaN, lossRate: -1, jitterMs: Infinity }, 100],
    ['combined: 70 ms, 0.5 % loss', { rttMs: 70, lossRate: 0.005 }, 85],
  ])('%s', (_name, over, score) => {
    expect(qualityScore({ samples: 5, throughputBps: 1e6, ...over })).toBe(score);
  });
});
