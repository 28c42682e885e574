/**
 * The Chromium tuning chosen from the browser bench (docs/benchmarks.md, "Browser", part 5 of
 * issue #14): `auto` on a LAN starts from `lan`, whose chunk bound and watermarks the grid
 * (`node --import tsx bench/browser.ts --grid`) kept. Changing them means measuring again.
 */
import { describe, expect, it } from 'vitest';
import { CHROME_MAX_MESSAGE_SIZE, SEND_QUEUE_LIMIT } from '../../src/types';
import { FRAME_HEADER_SIZE } from '../../src/protocol/frame';
import { AUTO_START, PROFILES, resolveTuning } from '../../src/transfer/profiles';
import { RAW_HIGH_WATER_BYTES, RAW_LOW_WATER_BYTES, tuningGrid } from '../../bench/lib/browser/browserSystems';

const KiB = 1024;

describe('Chromium tuning (auto on a LAN)', () => {
  const lan = resolveTuning(AUTO_START);

  it('sends the largest chunks Chromium takes: 256 KiB messages, so a chunk of 256 KiB less the frame header', () => {
    expect(lan.maxChunk).toBe(CHROME_MAX_MESSAGE_SIZE);
    expect(Math.min(lan.maxChunk, CHROME_MAX_MESSAGE_SIZE - FRAME_HEADER_SIZE)).toBe(256 * KiB - FRAME_HEADER_SIZE);
  });

  it('keeps 1 MiB high and 256 KiB low per channel: the grid found no gain above, and longer bursts of send() on the main thread', () => {
    expect(lan.high).toBe(1024 * KiB);
    expect(lan.low).toBe(256 * KiB);
  });

  it('stays inside Chromium limits: high + a message within the 16 MiB send queue, low above the ~100 KiB coarse steps of bufferedamountlow', () => {
    expect(lan.high + CHROME_MAX_MESSAGE_SIZE).toBeLessThanOrEqual(SEND_QUEUE_LIMIT);
    expect(lan.low).toBeGreaterThan(100 * KiB);
  });

  it('gives the raw baseline the same watermarks, and the grid only values Chromium accepts', () => {
    expect([RAW_HIGH_WATER_BYTES, RAW_LOW_WATER_BYTES]).toEqual([PROFILES.lan.high, PROFILES.lan.low]);
    const grid = tuningGrid();
    expect(grid.filter((s) => s.kind === 'raw')).toHaveLength(3);
    for (const s of grid) {
      if (s.kind === 'raw') expect(s.highWaterBytes + s.messageBytes).toBeLessThanOrEqual(SEND_QUEUE_LIMIT);
      else if (s.kind === 'tallow') {
        expect(() => resolveTuning('lan', s.options)).not.toThrow();
        expect(s.options.low!).toBeGreaterThan(100 * KiB);
      } else throw new Error(`unexpected ${s.kind} in the grid`);
    }
  });
});
