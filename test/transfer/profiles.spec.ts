import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { autoLanes, MAX_AUTO_LANES, probeConditions } from '../../src/transfer/sendFile';

/** The profile `auto` starts from for `pc`. */
const probeProfile = async (pc: Parameters<typeof probeConditions>[0], timeoutMs?: number) => (await firstValueFrom(probeConditions(pc, timeoutMs))).profile;
import { PROFILES, resolveTuning, validateTuning } from '../../src/transfer/profiles';
import { SEND_QUEUE_LIMIT } from '../../src/types';

describe('profiles', () => {
  it.each(Object.entries(PROFILES))('%s is valid for Chrome: chunks within 256 KiB, high + frame under 16 MiB', (_name, t) => {
    expect(() => validateTuning(t)).not.toThrow();
    expect(t.maxChunk).toBeLessThanOrEqual(262_144);
    expect(t.high + 262_144).toBeLessThanOrEqual(SEND_QUEUE_LIMIT);
    expect(t.window).toBeGreaterThanOrEqual(2 * t.maxChunk);
  });

  it('follows the seed matrix: more channels and bigger chunks on fast links, fewer and smaller on poor ones', () => {
    expect(PROFILES.lan.maxChunk).toBeGreaterThan(PROFILES.internet.maxChunk);
    expect(PROFILES.internet.maxChunk).toBeGreaterThan(PROFILES.poor.maxChunk);
    expect(PROFILES.wifi.channels).toBe(3);
    expect(PROFILES.mobile.channels).toBe(1);
  });

  it('applies overrides and caps chunks in unreliable mode', () => {
    expect(resolveTuning('lan', { channels: 4 }).channels).toBe(4);
    expect(resolveTuning('lan', { reliability: 'unreliable' }).maxChunk).toBe(64 * 1024);
    expect(resolveTuning('lan', { reliability: 'unreliable', maxChunk: 128 * 1024 }).maxChunk).toBe(128 * 1024);
    expect(resolveTuning('auto')).toEqual(PROFILES.lan);
  });

  it("unreliable keeps a minChunk of the app's (an outside check: it was replaced by 16 KiB, so 100000 and 2^30 passed unchecked)", () => {
    expect(resolveTuning('lan', { reliability: 'unreliable', minChunk: 32 * 1024 })).toMatchObject({ minChunk: 32 * 1024, maxChunk: 64 * 1024 });
    expect(resolveTuning('lan', { reliability: 'unreliable' }).minChunk).toBe(16 * 1024);
    for (const minChunk of [100_000, 2 ** 30]) {
      expect(() => resolveTuning('lan', { reliability: 'unreliable', minChunk })).toThrow(`sendFiles: minChunk must be <= maxChunk (65536, unreliable's cap), got ${minChunk}`);
    }
  });

  it.each([
    // profile, connections offered, overrides, expected
    ['lan', 1, {}, { channels: 2, lanes: 1 }],
    ['lan', 2, {}, { channels: 2, lanes: 2 }],
    ['internet', 2, {}, { channels: 2, lanes: 2 }],
    ['internet', 4, {}, { channels: 4, lanes: 4 }],
    ['wifi', 1, {}, { channels: 3, lanes: 1 }],
    ['wifi', 8, {}, { channels: 8, lanes: 8 }],
    ['mobile', 1, {}, { channels: 1, lanes: 1 }],
    ['mobile', 3, {}, { channels: 3, lanes: 3 }],
    ['poor', 40, {}, { channels: MAX_AUTO_LANES, lanes: MAX_AUTO_LANES }],
    ['internet', 8, { lanes: 2 }, { channels: 2, lanes: 2 }],
    ['internet', 8, { channels: 3 }, { channels: 3, lanes: 3 }],
    ['internet', 8, { channels: 12, lanes: 5 }, { channels: 12, lanes: 5 }],
    ['lan', 0, {}, { channels: 2, lanes: 1 }],
  ] as const)('auto on %s with %i connection(s) and %j uses %j', (profile, offered, overrides, expected) => {
    const got = autoLanes(profile, offered, overrides);
    expect(got).toEqual(expected);
    expect(() => resolveTuning(profile, { ...got, ...overrides })).not.toThrow();
  });

  it.each([
    ['lan', 1, {}, { channels: 1, lanes: 1 }],
    ['lan', 3, {}, { channels: 3, lanes: 3 }],
    ['internet', 1, {}, { channels: 1, lanes: 1 }],
    ['lan', 1, { channels: 2 }, { channels: 2, lanes: 1 }],
  ] as const)('in a page (onePerLane) auto on %s with %i connection(s) and %j uses %j: one channel per lane', (profile, offered, overrides, expected) => {
    expect(autoLanes(profile, offered, overrides, true)).toEqual(expected);
  });

  it("a maxChunk of the app's below the profile's minChunk brings minChunk down with it (an outside check: 16 KiB was refused)", () => {
    expect(resolveTuning('lan', { maxChunk: 16_384 })).toMatchObject({ minChunk: 16_384, maxChunk: 16_384 });
    expect(resolveTuning('internet', { maxChunk: 20_000 })).toMatchObject({ minChunk: 20_000, maxChunk: 20_000 });
    // Above the profile's minChunk, or with a minChunk of its own, nothing moves.
    expect(resolveTuning('lan', { maxChunk: 100_000 })).toMatchObject({ minChunk: 65_536, maxChunk: 100_000 });
    expect(() => resolveTuning('lan', { maxChunk: 16_384, minChunk: 32_768 })).toThrow(InvalidConfigError);
  });

  it('rejects values that break real stacks with InvalidConfigError', () => {
    const bad = [
      { high: 16 * 1024 * 1024, low: 4 * 1024 * 1024 }, // the seed's watermarks
      { channels: 0 },
      { channels: 17 },
      { lanes: 3, channels: 2 },
      { low: 2 * 1024 * 1024, high: 1024 * 1024 },
      { minChunk: 100_000, maxChunk: 50_000 },
      { window: 1000 },
      { reliability: 'sometimes' as any },
    ];
    for (const o of bad) expect(() => resolveTuning('lan', o), JSON.stringify(o)).toThrow(InvalidConfigError);
    expect(() => resolveTuning('nope' as any)).toThrow(InvalidConfigError);
  });
});

describe('probeConditions picks the starting profile (auto)', () => {
  const pcWithRtt = (seconds: number | undefined) => ({
    getStats: async () =>
      new Map<string, any>([
        ['t', { type: 'transport', id: 't', selectedCandidatePairId: 'cp', bytesSent: 0, bytesReceived: 0 }],
        ['cp', { type: 'candidate-pair', id: 'cp', state: 'succeeded', nominated: true, currentRoundTripTime: seconds, bytesSent: 0, bytesReceived: 0 }],
      ]),
  });
  it.each([
    [0.002, 'lan'],
    [0.02, 'wifi'],
    [0.06, 'internet'],
    [0.3, 'poor'],
  ])('an RTT of %f s picks %s', async (rtt, want) => {
    expect(await probeProfile(pcWithRtt(rtt) as any)).toBe(want);
  });
  it('probeConditions also returns the RTT in ms (undefined when unknown)', async () => {
    expect(await firstValueFrom(probeConditions(pcWithRtt(0.06) as any))).toEqual({ profile: 'internet', rttMs: 60 });
    expect(await firstValueFrom(probeConditions(pcWithRtt(undefined) as any))).toEqual({ profile: 'lan' });
    expect(await firstValueFrom(probeConditions({} as any))).toEqual({ profile: 'lan' });
  });
  it('falls back to lan without stats, on errors and on a stall', async () => {
    expect(await probeProfile({} as any)).toBe('lan');
    expect(await probeProfile({ getStats: () => Promise.reject(new Error('x')) } as any)).toBe('lan');
    expect(await probeProfile({ getStats: () => new Promise(() => undefined) } as any, 20)).toBe('lan');
    expect(await probeProfile(pcWithRtt(undefined) as any)).toBe('lan');
  });
});
