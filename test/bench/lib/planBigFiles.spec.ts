import { describe, expect, it } from 'vitest';
import { planBigFiles } from '../../../bench/lib/planBigFiles';

describe('planBigFiles (many-files bench: how big the large files can be)', () => {
  it('keeps the wanted size when three copies and the reserve fit', () => {
    expect(planBigFiles(79e9, 1e9, 10)).toEqual({ partSize: 1e8, parts: 10, total: 1e9, scaled: false });
    expect(planBigFiles(4e9, 1e9, 10)).toMatchObject({ total: 1e9, scaled: false });
  });

  it('scales down to whole megabytes per part, and says why', () => {
    const plan = planBigFiles(2e9, 1e9, 10);
    expect(plan).toMatchObject({ partSize: 33e6, parts: 10, total: 33e7, scaled: true });
    expect(plan.reason).toBe('2.00 GB free, 4.00 GB needed for 10 × 100 MB');
    expect(3 * plan.total + 1e9).toBeLessThanOrEqual(2e9);
  });

  it('throws when not even 1 MB per part fits, and on bad input', () => {
    expect(() => planBigFiles(1.01e9, 1e9, 10)).toThrow(/not enough/);
    expect(() => planBigFiles(79e9, 1e9, 0)).toThrow(RangeError);
    expect(() => planBigFiles(79e9, 5e6, 10)).toThrow(RangeError);
  });
});
