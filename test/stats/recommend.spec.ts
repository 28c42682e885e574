import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CHUNK, recommend, type RecommendInputs } from '../../src/stats/recommend';
import type { RecommendationAction } from '../../src/stats/statsTypes';

const base: RecommendInputs = { samples: 5, throughputBps: 50e6, bottleneck: 'none', channels: 2, lanes: 1, chunkSize: 64 * 1024 };

describe('recommend', () => {
  it.each<[string, Partial<RecommendInputs>, RecommendationAction, string?]>([
    ['none', {}, 'none'],
    ['unknown', { bottleneck: 'unknown' }, 'none'],
    ['receiver: sending faster cannot help', { bottleneck: 'receiver' }, 'none'],
    ['latency-bound with one lane: more lanes', { bottleneck: 'network-latency', rttMs: 100 }, 'more-lanes'],
    ['latency-bound with 4 lanes: none', { bottleneck: 'network-latency', rttMs: 100, lanes: 4 }, 'none'],
    ['bandwidth, 3 % loss, 64 KiB chunks: smaller chunks', { bottleneck: 'network-bandwidth', lossRate: 0.03 }, 'smaller-chunks'],
    ['bandwidth, 3 % loss, already 16 KiB: more channels', { bottleneck: 'network-bandwidth', lossRate: 0.03, chunkSize: 16 * 1024 }, 'more-channels'],
    ['bandwidth, 1 % loss, 2 channels: more channels', { bottleneck: 'network-bandwidth', lossRate: 0.01 }, 'more-channels'],
    ['bandwidth, 1 % loss, 4 channels: none', { bottleneck: 'network-bandwidth', lossRate: 0.01, channels: 4 }, 'none'],
    ['bandwidth, no loss (queueing): the path is full', { bottleneck: 'network-bandwidth' }, 'none'],
    ['backpressure with 64 KiB chunks: larger', { bottleneck: 'backpressure' }, 'larger-chunks'],
    ['backpressure at the largest chunk: none', { bottleneck: 'backpressure', chunkSize: DEFAULT_MAX_CHUNK }, 'none'],
    ['backpressure, chunk size unknown: none', { bottleneck: 'backpressure', chunkSize: undefined }, 'none'],
    ['cpu with 16 KiB chunks: larger', { bottleneck: 'cpu', chunkSize: 16 * 1024 }, 'larger-chunks'],
    ['cpu with a custom max chunk reached: none', { bottleneck: 'cpu', chunkSize: 65536, maxChunkSize: 65536 }, 'none'],
    ['profile lan but RTT 60 ms: switch to internet', { profile: 'lan', rttMs: 60, bottleneck: 'backpressure' }, 'switch-profile', 'internet'],
    ['profile fits: the bottleneck decides', { profile: 'internet', rttMs: 60, bottleneck: 'backpressure' }, 'larger-chunks'],
    ['profile lan, jittery path: switch to mobile', { profile: 'lan', rttMs: 40, jitterMs: 20 }, 'switch-profile', 'mobile'],
    ['profile known but RTT unknown: no switch', { profile: 'lan' }, 'none'],
    ['too few samples for a switch', { profile: 'lan', rttMs: 60, samples: 2 }, 'none'],
  ])('%s', (_name, over, action, profile) => {
    const r = recommend({ ...base, ...over });
    expect(r.action).toBe(action);
    expect(r.profile).toBe(profile);
    expect(r.reason.length).toBeGreaterThan(10);
  });

  it('explains a latency limit with the per-lane ceiling', () => {
    expect(recommend({ ...base, bottleneck: 'network-latency', rttMs: 100 })).toEqual({
      action: 'more-lanes',
      reason: 'RTT 100 ms caps each lane at about 32.0 Mbit/s; 1 lane in use',
    });
  });
});
