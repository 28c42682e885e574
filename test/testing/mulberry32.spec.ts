import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/testing';

describe('mulberry32', () => {
  it('is deterministic per seed and matches the reference sequence', () => {
    const r = mulberry32(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 100; i++) expect(a()).toBe(b());
    expect(mulberry32(2)()).not.toBe(mulberry32(1)());
  });

  it('yields floats in [0, 1) with a roughly uniform mean', () => {
    const r = mulberry32(7);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
    }
    // One assertion for all 10,000 draws, not 20,000 expect() calls (most of this test's time).
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 10_000).toBeGreaterThan(0.48);
    expect(sum / 10_000).toBeLessThan(0.52);
  });
});
