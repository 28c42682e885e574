import { describe, expect, it } from 'vitest';
import { pickProfile, type ProfileInputs } from '../../src/stats/pickProfile';

describe('pickProfile', () => {
  it.each<[string, ProfileInputs, string]>([
    ['loopback', { rttMs: 0.4, lossRate: 0 }, 'lan'],
    ['LAN, loss unknown counts as 0', { rttMs: 2 }, 'lan'],
    ['LAN edge: rtt 9.99', { rttMs: 9.99, lossRate: 0.0009 }, 'lan'],
    ['rtt 10 is no longer LAN', { rttMs: 10, lossRate: 0 }, 'wifi'],
    ['LAN RTT with 0.1 % loss', { rttMs: 3, lossRate: 0.001 }, 'wifi'],
    ['wifi', { rttMs: 18, lossRate: 0.005 }, 'wifi'],
    ['wifi RTT but 2 % loss', { rttMs: 18, lossRate: 0.02 }, 'poor'],
    ['rtt 30 is internet', { rttMs: 30 }, 'internet'],
    ['internet', { rttMs: 80, lossRate: 0.015 }, 'internet'],
    ['rtt 100 is poor', { rttMs: 100 }, 'poor'],
    ['internet RTT, 5 % loss', { rttMs: 50, lossRate: 0.05 }, 'poor'],
    ['satellite', { rttMs: 600, lossRate: 0 }, 'poor'],
    ['mobile: jitter 25 ms on 70 ms', { rttMs: 70, jitterMs: 25 }, 'mobile'],
    ['mobile beats LAN figures', { rttMs: 8, jitterMs: 12 }, 'mobile'],
    ['jitter below 10 ms is never mobile', { rttMs: 8, jitterMs: 9.9 }, 'lan'],
    ['jitter below 0.3 × RTT is not mobile', { rttMs: 200, jitterMs: 50 }, 'poor'],
    ['RTT unknown: internet', {}, 'internet'],
    ['RTT NaN: internet', { rttMs: NaN }, 'internet'],
    ['bitrate does not change the pick', { rttMs: 2, bitrateBps: 1000 }, 'lan'],
  ])('%s', (_name, inputs, profile) => {
    expect(pickProfile(inputs)).toBe(profile);
  });
});
