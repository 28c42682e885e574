// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { formatBytes, formatEta, formatMs, formatPercent, formatRate, formatRatio, formatRtt, formatSize, formatSpeed, UNKNOWN } from '../../examples/web/format';

const MiB = 1024 * 1024;

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [20 * MiB, '20.0 MiB'],
    [9.05 * MiB, '9.1 MiB'],
    [1.5 * 1024 * MiB, '1.5 GiB'],
    [3 * 1024 ** 5, '3072.0 TiB'],
  ])('%d → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([undefined, NaN, -1, Infinity])('%s → unknown', (bytes) => expect(formatBytes(bytes)).toBe(UNKNOWN));
});

describe('formatRate', () => {
  it.each([
    [0, '0 bit/s'],
    [999, '999 bit/s'],
    [1000, '1.0 kbit/s'],
    [95_240_000, '95.2 Mbit/s'],
    [999_960_000, '1.0 Gbit/s'],
    [2.5e9, '2.5 Gbit/s'],
  ])('%d → %s', (bps, text) => expect(formatRate(bps)).toBe(text));

  it.each([undefined, NaN, -5])('%s → unknown', (bps) => expect(formatRate(bps)).toBe(UNKNOWN));
});

describe('formatEta', () => {
  it.each([
    [0, '0 s'],
    [0.2, '1 s'],
    [4.2, '5 s'],
    [59, '59 s'],
    [59.5, '1 min 00 s'],
    [65, '1 min 05 s'],
    [3599, '59 min 59 s'],
    [3600, '1 h 00 min'],
    [7380, '2 h 03 min'],
  ])('%d s → %s', (s, text) => expect(formatEta(s)).toBe(text));

  it.each([undefined, NaN, -1, Infinity])('%s → unknown', (s) => expect(formatEta(s)).toBe(UNKNOWN));
});

describe('formatMs', () => {
  it.each([
    [0, '0.00 ms'],
    [0.4213, '0.42 ms'],
    [9.994, '9.99 ms'],
    [12.34, '12.3 ms'],
    [250.6, '251 ms'],
    [12_000, '12000 ms'],
  ])('%d → %s', (ms, text) => expect(formatMs(ms)).toBe(text));

  it('unknown without a value', () => expect(formatMs(undefined)).toBe(UNKNOWN));
});

describe('formatPercent', () => {
  it.each([
    [0, '0.0 %'],
    [45.12, '45.1 %'],
    [99.96, '99.9 %'],
    [100, '100 %'],
    [120, '100 %'],
    [-3, '0.0 %'],
  ])('%d → %s', (p, text) => expect(formatPercent(p)).toBe(text));

  it.each([undefined, NaN])('%s → unknown', (p) => expect(formatPercent(p)).toBe(UNKNOWN));
});

describe('formatRatio', () => {
  it.each([
    [0, '0.00 %'],
    [0.0042, '0.42 %'],
    [1, '100.00 %'],
    [3, '100.00 %'],
  ])('%d → %s', (r, text) => expect(formatRatio(r)).toBe(text));

  it('unknown without a value', () => expect(formatRatio(undefined)).toBe(UNKNOWN));
});

describe('formatSize, formatSpeed, formatRtt (for people)', () => {
  it('sizes and speeds in the same decimal units', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1500)).toBe('1.5 kB');
    expect(formatSize(20 * 2 ** 20)).toBe('21.0 MB');
    expect(formatSpeed(11_600_000)).toBe('11.6 MB/s');
    expect(formatSpeed(250_000)).toBe('0.25 MB/s');
    expect(formatSpeed(undefined)).toBe(UNKNOWN);
  });

  it('an RTT with the precision of its source', () => {
    expect(formatRtt(1, 'transport')).toBe('1 ms');
    expect(formatRtt(0, 'transport')).toBe('< 1 ms');
    expect(formatRtt(0.4213, 'application')).toBe('0.42 ms');
    expect(formatRtt(undefined, 'transport')).toBe(UNKNOWN);
  });
});
