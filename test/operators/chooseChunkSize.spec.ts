import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { chooseChunkSize, chunkPolicy, clampChunkSize, type ChunkPolicyConfig, type NetworkConditions } from '../../src/operators/chooseChunkSize';
import { thrownBy } from '../helpers/thrown';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHROME_MAX_PAYLOAD = 262_144 - 32;

describe('chunkPolicy', () => {
  // prettier-ignore
  const table: Array<[string, NetworkConditions, ChunkPolicyConfig, number, string]> = [
    // name                                   conditions                                    config                                  size               tier
    ['LAN, fast: 4 MiB clamped to Chrome',    { rttMs: 2, bitrateBps: 1e9 },                {},                                     CHROME_MAX_PAYLOAD, 'lan-fast'],
    ['LAN, fast, no message limit',           { rttMs: 2, bitrateBps: 1e9 },                { maxMessageSize: Infinity },           4 * MiB,           'lan-fast'],
    ['LAN, bitrate unknown: 1 MiB clamped',   { rttMs: 2 },                                 {},                                     CHROME_MAX_PAYLOAD, 'lan'],
    ['LAN, 500 Mbit/s is not fast',           { rttMs: 0, bitrateBps: 500e6 },              {},                                     CHROME_MAX_PAYLOAD, 'lan'],
    ['LAN on Firefox (1 GiB messages)',       { rttMs: 5 },                                 { maxMessageSize: 1 << 30 },            1 * MiB,           'lan'],
    ['rtt 9.99 is still LAN',                 { rttMs: 9.99 },                              { maxMessageSize: 8 * MiB },            1 * MiB,           'lan'],
    ['rtt 10',                                { rttMs: 10 },                                {},                                     128 * KiB,         'medium'],
    ['rtt 49',                                { rttMs: 49 },                                {},                                     128 * KiB,         'medium'],
    ['rtt 50',                                { rttMs: 50 },                                {},                                     64 * KiB,          'default'],
    ['rtt 99',                                { rttMs: 99 },                                {},                                     64 * KiB,          'default'],
    ['rtt 100',                               { rttMs: 100 },                               {},                                     32 * KiB,          'small'],
    ['rtt 199',                               { rttMs: 199 },                               {},                                     32 * KiB,          'small'],
    ['rtt 200',                               { rttMs: 200 },                               {},                                     16 * KiB,          'tiny'],
    ['rtt 5000',                              { rttMs: 5000 },                              {},                                     16 * KiB,          'tiny'],
    ['reliable, loss 1.9%: no step',          { rttMs: 30, lossRate: 0.019 },               {},                                     128 * KiB,         'medium'],
    ['reliable, loss 2%: one step down',      { rttMs: 30, lossRate: 0.02 },                {},                                     64 * KiB,          'default'],
    ['loss steps down from the CLAMPED size', { rttMs: 2, bitrateBps: 1e9, lossRate: 0.05 }, {},                                    128 * KiB,         'medium'],
    ['loss step without a message limit',     { rttMs: 2, bitrateBps: 1e9, lossRate: 0.05 }, { maxMessageSize: Infinity },          1 * MiB,           'lan'],
    ['loss at the smallest rung',             { rttMs: 300, lossRate: 0.5 },                {},                                     16 * KiB,          'tiny'],
    ['low bitrate caps at 64 KiB',            { rttMs: 30, bitrateBps: 5e6 },               {},                                     64 * KiB,          'default'],
    ['low bitrate on a LAN',                  { rttMs: 1, bitrateBps: 4e6 },                {},                                     64 * KiB,          'default'],
    ['1 Mbit/s: a chunk in at most 500 ms',   { rttMs: 1, bitrateBps: 1e6 },                {},                                     32 * KiB,          'small'],
    ['160 kbit/s: the smallest tier',         { rttMs: 20, bitrateBps: 160e3 },             {},                                     16 * KiB,          'tiny'],
    ['slower still: the smallest tier',       { rttMs: 20, bitrateBps: 10e3 },              {},                                     16 * KiB,          'tiny'],
    ['low bitrate, already smaller',          { rttMs: 150, bitrateBps: 5e6 },              {},                                     32 * KiB,          'small'],
    ['10 Mbit/s is not low',                  { rttMs: 30, bitrateBps: 10e6 },              {},                                     128 * KiB,         'medium'],
    ['bitrate 0 counts as low',               { rttMs: 30, bitrateBps: 0 },                 {},                                     64 * KiB,          'default'],
    ['maxChunk caps',                         { rttMs: 30 },                                { maxChunk: 100_000 },                  100_000,           'medium'],
    ['small maxMessageSize caps',             { rttMs: 30 },                                { maxMessageSize: 64 * KiB },           64 * KiB - 32,     'medium'],
    ['minChunk floors',                       { rttMs: 300 },                               { minChunk: 20_000 },                   20_000,            'tiny'],
    ['unreliable, no loss',                   { rttMs: 30, lossRate: 0 },                   { reliable: false },                    128 * KiB,         'medium'],
    ['unreliable, 0.01% loss',                { rttMs: 2, lossRate: 0.0001 },               { reliable: false },                    CHROME_MAX_PAYLOAD, 'lan'],
    ['unreliable, 0.05% loss',                { rttMs: 2, lossRate: 0.0005 },               { reliable: false },                    123_041,           'lan'],
    ['unreliable, 0.1% loss',                 { rttMs: 30, lossRate: 0.001 },               { reliable: false },                    61_489,            'medium'],
    ['unreliable, 0.5% loss hits minChunk',   { rttMs: 30, lossRate: 0.005 },               { reliable: false },                    16 * KiB,          'medium'],
    ['unreliable, 100% loss',                 { rttMs: 30, lossRate: 1 },                   { reliable: false },                    16 * KiB,          'medium'],
    ['unreliable, 3% loss: no step, budget',  { rttMs: 30, lossRate: 0.03 },                { reliable: false, minChunk: 1024 },    1988,              'medium'],
    ['unreliable, small loss, small floor',   { rttMs: 30, lossRate: 0.005 },               { reliable: false, minChunk: 1024 },    12_247,            'medium'],
  ];

  it.each(table)('%s', (_name, conditions, config, size, tier) => {
    const p = chunkPolicy(conditions, config);
    expect({ size: p.size, tier: p.tier }).toEqual({ size, tier });
    expect(chooseChunkSize(conditions, config)).toBe(size);
    expect(p.reason).toMatch(/^rtt /);
  });

  it('explains the clamp, the loss step and the loss budget in `reason`', () => {
    expect(chunkPolicy({ rttMs: 2, bitrateBps: 1e9 }).reason).toMatch(/clamped to 262112 B/);
    expect(chunkPolicy({ rttMs: 30, lossRate: 0.05 }).reason).toMatch(/one size down to default/);
    expect(chunkPolicy({ rttMs: 30, lossRate: 0.001 }, { reliable: false }).reason).toMatch(/unreliable/);
  });

  it('never breaks its bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          rttMs: fc.double({ min: 0, max: 10_000, noNaN: true }),
          lossRate: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
          bitrateBps: fc.option(fc.double({ min: 0, max: 1e10, noNaN: true }), { nil: undefined }),
        }),
        fc.integer({ min: 1, max: 64 * KiB }),
        fc.integer({ min: 0, max: 2 * MiB }),
        fc.boolean(),
        (conditions, minChunk, extra, reliable) => {
          const maxMessageSize = minChunk + 32 + extra;
          const { size } = chunkPolicy(conditions, { minChunk, maxMessageSize, reliable });
          expect(Number.isInteger(size)).toBe(true);
          expect(size).toBeGreaterThanOrEqual(minChunk);
          expect(size + 32).toBeLessThanOrEqual(maxMessageSize);
          const p = conditions.lossRate ?? 0;
          if (!reliable && size > minChunk) expect(1 - (1 - p) ** ((size + 32) / 1200)).toBeLessThanOrEqual(0.05 + 1e-12);
        },
      ),
    );
  });

  // prettier-ignore
  const invalid: Array<[string, unknown, ChunkPolicyConfig]> = [
    ['negative rtt',                     { rttMs: -1 },                 {}],
    ['NaN rtt',                          { rttMs: NaN },                {}],
    ['infinite rtt',                     { rttMs: Infinity },           {}],
    ['missing rtt',                      {},                            {}],
    ['no conditions',                    null,                          {}],
    ['loss below 0',                     { rttMs: 1, lossRate: -0.1 },  {}],
    ['loss above 1',                     { rttMs: 1, lossRate: 1.1 },   {}],
    ['NaN loss',                         { rttMs: 1, lossRate: NaN },   {}],
    ['negative bitrate',                 { rttMs: 1, bitrateBps: -1 },  {}],
    ['maxMessageSize < minChunk + 32',   { rttMs: 1 },                  { maxMessageSize: 16 * KiB + 31 }],
    ['minChunk 0',                       { rttMs: 1 },                  { minChunk: 0 }],
    ['fractional minChunk',              { rttMs: 1 },                  { minChunk: 1.5 }],
    ['maxChunk < minChunk',              { rttMs: 1 },                  { maxChunk: 1000 }],
    ['NaN maxMessageSize',               { rttMs: 1 },                  { maxMessageSize: NaN }],
  ];

  it.each(invalid)('rejects %s with InvalidConfigError', (_name, conditions, config) => {
    expect(() => chunkPolicy(conditions as NetworkConditions, config)).toThrow(InvalidConfigError);
  });

  it('accepts the tightest maxMessageSize', () => {
    expect(chooseChunkSize({ rttMs: 1 }, { maxMessageSize: 16 * KiB + 32 })).toBe(16 * KiB);
  });
});

describe('clampChunkSize', () => {
  it('clamps into [minChunk, maxMessageSize - 32] and validates', () => {
    expect(clampChunkSize(1 * MiB)).toBe(CHROME_MAX_PAYLOAD);
    expect(clampChunkSize(100)).toBe(16 * KiB);
    expect(clampChunkSize(40_000)).toBe(40_000);
    expect(clampChunkSize(100, { minChunk: 10 })).toBe(100);
    expect(clampChunkSize(50_000, { maxChunk: 20_000 })).toBe(20_000);
    expect(() => clampChunkSize(0)).toThrow(InvalidConfigError);
    expect(() => clampChunkSize(1.5)).toThrow(InvalidConfigError);
    expect(() => clampChunkSize(1000, { minChunk: -1 })).toThrow(InvalidConfigError);
  });
});

describe('chooseChunkSize: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => chooseChunkSize({ rttMs: 1 }, null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'chooseChunkSize: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
