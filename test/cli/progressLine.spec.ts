import { describe, expect, it } from 'vitest';
import { bar, formatBytes, formatEta, formatRate, progressLine, summaryLines } from '../../src/cli/progressLine';

const MiB = 1024 * 1024;

describe('progressLine', () => {
  it('fills the terminal width: the bar grows with the columns (10-50 cells), the figures stay', () => {
    const p = { label: 'sending', bytes: 8 * MiB, total: 16 * MiB, bitsPerSecond: 42.1e6, etaSeconds: 2 };
    const narrow = progressLine(p, 80);
    const wide = progressLine(p, 200);
    expect(narrow.length).toBeLessThanOrEqual(80);
    expect(narrow).toMatch(/^sending {2}\[█+░+\] {2} 50% {2}8\.0 MiB \/ 16\.0 MiB {2}42\.1 Mbit\/s {2}ETA 2s$/);
    expect(wide.match(/\[(.*)\]/)![1]).toHaveLength(50);
    expect(narrow.match(/\[(.*)\]/)![1].length).toBe(80 - 6 - 'sending'.length - '  50%  8.0 MiB / 16.0 MiB  42.1 Mbit/s  ETA 2s'.length + 1);
    // Too narrow for a bar: the figures alone.
    expect(progressLine(p, 50)).not.toContain('[');
  });

  it('no ETA once every byte is in (a resumed transfer showed "100% … ETA 4s")', () => {
    const line = progressLine({ label: 'receiving', bytes: 16 * MiB, total: 16 * MiB, bitsPerSecond: 335.2e6, etaSeconds: 4 }, 120);
    expect(line).toMatch(/100% {2}16\.0 MiB \/ 16\.0 MiB {2}335\.2 Mbit\/s$/);
  });

  it('formats bytes, rates and times', () => {
    expect([formatBytes(0), formatBytes(1536), formatBytes(5 * MiB)]).toEqual(['0 B', '1.5 KiB', '5.0 MiB']);
    expect([formatRate(0), formatRate(950e3), formatRate(84.6e6), formatRate(1.25e9)]).toEqual(['—', '950 kbit/s', '84.6 Mbit/s', '1.25 Gbit/s']);
    expect([formatEta(undefined), formatEta(42.4), formatEta(185), formatEta(3720)]).toEqual(['—', '42s', '3m05s', '1h02m']);
    expect(bar(0.5, 10)).toBe('█████░░░░░');
    expect(bar(2, 4)).toBe('████');
  });

  it('summary: one line per file, long names cut from the left, then the verified total', () => {
    const lines = summaryLines(
      [
        { path: 'a.bin', bytes: 16 * MiB, sha256: 'ab'.repeat(32) },
        { path: `${'deep/'.repeat(30)}z.txt`, bytes: 6, sha256: 'cd'.repeat(32) },
      ],
      2,
      80,
    );
    expect(lines[0]).toMatch(/^✓ a\.bin +16\.0 MiB {2}sha256 abababababababab…$/);
    expect(lines[1].length).toBeLessThanOrEqual(80);
    expect(lines[1]).toMatch(/^✓ ….*deep\/z\.txt +6 B/);
    expect(lines[2]).toBe('verified 2 files, 16.0 MiB in 2.0 s (67.1 Mbit/s), SHA-256 equal on both ends');
  });

  it('summary after a resume: the speed counts only the bytes that moved, and says how much was already here', () => {
    const files = [{ path: 'resume.bin', bytes: 96 * MiB, sha256: 'ef'.repeat(32) }];
    // 96 MiB verified in 2 s, of which 64 MiB were held before: 32 MiB moved.
    expect(summaryLines(files, 2, 80, 64 * MiB)[1]).toBe('verified 1 file, 96.0 MiB in 2.0 s (134.2 Mbit/s, 64.0 MiB of it already here), SHA-256 equal on both ends');
    expect(summaryLines(files, 2, 80)[1]).toBe('verified 1 file, 96.0 MiB in 2.0 s (402.7 Mbit/s), SHA-256 equal on both ends');
  });
});
