/**
 * Number formatting for the web example: bytes, bit rates, durations and
 * percentages as short strings. Pure functions, no DOM; unknown or invalid
 * input (undefined, NaN, negative) prints as {@link UNKNOWN}.
 */

/** What every formatter prints for a value it does not know. */
export const UNKNOWN = '—';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
const RATE_UNITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'] as const;

const known = (x: number | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/** Scales `value` by `base` into `units`; one decimal above the first unit. */
function scaled(value: number, base: number, units: readonly string[]): string {
  let i = 0;
  let v = value;
  // 1023.96 KiB rounds to "1024.0 KiB"; step up when the rounded figure reaches the base.
  while (i < units.length - 1 && Number(v.toFixed(1)) >= base) {
    v /= base;
    i++;
  }
  return i === 0 ? `${Math.round(v)} ${units[0]}` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Bytes in binary units.
 *
 * ```
 * formatBytes(0) → '0 B'   formatBytes(1536) → '1.5 KiB'   formatBytes(20 * 2 ** 20) → '20.0 MiB'
 * ```
 */
export function formatBytes(bytes: number | undefined): string {
  return known(bytes) ? scaled(bytes, 1024, BYTE_UNITS) : UNKNOWN;
}

/**
 * A bit rate in decimal units, as network people quote them.
 *
 * ```
 * formatRate(0) → '0 bit/s'   formatRate(95_240_000) → '95.2 Mbit/s'
 * ```
 */
export function formatRate(bitsPerSecond: number | undefined): string {
  return known(bitsPerSecond) ? scaled(bitsPerSecond, 1000, RATE_UNITS) : UNKNOWN;
}

/**
 * Remaining time, rounded up to whole seconds.
 *
 * ```
 * formatEta(0) → '0 s'   formatEta(4.2) → '5 s'   formatEta(65) → '1 min 05 s'   formatEta(7380) → '2 h 03 min'
 * ```
 */
export function formatEta(seconds: number | undefined): string {
  if (!known(seconds)) return UNKNOWN;
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * Milliseconds with a precision that suits the size: two decimals below 10 ms,
 * one below 100 ms, none above.
 *
 * ```
 * formatMs(0.4213) → '0.42 ms'   formatMs(12.34) → '12.3 ms'   formatMs(250.6) → '251 ms'
 * ```
 */
export function formatMs(ms: number | undefined): string {
  if (!known(ms)) return UNKNOWN;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/**
 * A percentage clamped to 0..100 with one decimal; exactly 100 prints without one.
 * 99.96 prints as '99.9 %', never as a premature '100 %'.
 *
 * ```
 * formatPercent(45.12) → '45.1 %'   formatPercent(100) → '100 %'
 * ```
 */
export function formatPercent(percent: number | undefined): string {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) return UNKNOWN;
  const p = Math.min(100, Math.max(0, percent));
  if (p === 100) return '100 %';
  return `${(Math.floor(p * 10) / 10).toFixed(1)} %`;
}

/**
 * A 0..1 ratio as a percentage with two decimals (for loss rates).
 *
 * ```
 * formatRatio(0.0042) → '0.42 %'
 * ```
 */
export function formatRatio(ratio: number | undefined): string {
  return known(ratio) ? `${(Math.min(1, ratio) * 100).toFixed(2)} %` : UNKNOWN;
}

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/**
 * Bytes in decimal units, for people: the same units as {@link formatSpeed}, so a size and a
 * speed can be compared at a glance.
 *
 * ```
 * formatSize(0) → '0 B'   formatSize(1500) → '1.5 kB'   formatSize(20 * 2 ** 20) → '21.0 MB'
 * ```
 */
export function formatSize(bytes: number | undefined): string {
  return known(bytes) ? scaled(bytes, 1000, SIZE_UNITS) : UNKNOWN;
}

/**
 * A speed in megabytes per second (decimal), for people. One decimal, two below 1 MB/s.
 *
 * ```
 * formatSpeed(11_600_000) → '11.6 MB/s'   formatSpeed(250_000) → '0.25 MB/s'
 * ```
 */
export function formatSpeed(bytesPerSecond: number | undefined): string {
  if (!known(bytesPerSecond)) return UNKNOWN;
  const mb = bytesPerSecond / 1e6;
  return `${mb < 1 ? mb.toFixed(2) : mb.toFixed(1)} MB/s`;
}

/**
 * A round-trip time with the precision of its source. Chromium's transport RTT (ICE candidate
 * pair) comes in whole milliseconds, so it prints as whole milliseconds ('< 1 ms' for 0); an
 * application ping is timed with `performance.now()` and keeps {@link formatMs}'s decimals.
 *
 * ```
 * formatRtt(1, 'transport') → '1 ms'   formatRtt(0, 'transport') → '< 1 ms'   formatRtt(0.42, 'application') → '0.42 ms'
 * (no source: as `application`)
 * ```
 */
export function formatRtt(ms: number | undefined, source: 'transport' | 'application' | undefined): string {
  if (!known(ms)) return UNKNOWN;
  if (source !== 'transport') return formatMs(ms);
  const whole = Math.round(ms);
  return whole === 0 ? '< 1 ms' : `${whole} ms`;
}
