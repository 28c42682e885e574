// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { appendSample, chartGeometry, chartSpan, CHART_WINDOW_MS, MIN_CHART_SPAN_MS, niceCeil, type ChartSample } from '../../examples/web/chart';

const M = 1_000_000;

describe('niceCeil', () => {
  it.each([
    [95 * M, 100 * M],
    [100 * M, 100 * M],
    [101 * M, 200 * M],
    [120, 200],
    [5, 5],
    [5.01, 10],
    [0.3, 0.5],
    [3e8, 5e8],
    [2e8, 2e8],
  ])('%d → %d', (value, nice) => expect(niceCeil(value)).toBeCloseTo(nice, 6));

  it.each([0, -4, NaN, Infinity])('%s → 1', (value) => expect(niceCeil(value)).toBe(1));
});

describe('appendSample', () => {
  it('appends without changing the input', () => {
    const before: ChartSample[] = [{ t: 0, bps: 1 }];
    const after = appendSample(before, { t: 1000, bps: 2 });
    expect(after).toEqual([
      { t: 0, bps: 1 },
      { t: 1000, bps: 2 },
    ]);
    expect(before).toHaveLength(1);
  });

  it('drops samples older than the window before the newest', () => {
    let window: ChartSample[] = [];
    for (let t = 0; t <= 70_000; t += 1000) window = appendSample(window, { t, bps: t });
    expect(window[0].t).toBe(10_000);
    expect(window.at(-1)!.t).toBe(70_000);
    expect(window).toHaveLength(61);
  });

  it('honours a custom window', () => {
    const window = [0, 500, 1000, 1500].reduce<ChartSample[]>((w, t) => appendSample(w, { t, bps: 1 }, 1000), []);
    expect(window.map((s) => s.t)).toEqual([500, 1000, 1500]);
  });

  it('ignores samples that go back in time or are not finite, and clamps negatives to 0', () => {
    const w = appendSample([{ t: 5000, bps: 1 }], { t: 4000, bps: 2 });
    expect(w).toEqual([{ t: 5000, bps: 1 }]);
    expect(appendSample(w, { t: 6000, bps: NaN })).toEqual(w);
    expect(appendSample(w, { t: 6000, bps: -3 }).at(-1)).toEqual({ t: 6000, bps: 0 });
  });
});

describe('chartGeometry', () => {
  const size = { width: 600, height: 100 };

  it('nothing to draw without samples', () => {
    expect(chartGeometry([], size)).toEqual({ line: '', area: '', yMax: M, peak: 0, points: 0 });
  });

  it('puts the newest sample at the right edge and scales y to a 1-2-5 top', () => {
    const samples = [
      { t: 0, bps: 40 * M },
      { t: 30_000, bps: 80 * M },
      { t: 60_000, bps: 95 * M },
    ];
    const g = chartGeometry(samples, size);
    expect(g.yMax).toBe(100 * M);
    expect(g.peak).toBe(95 * M);
    expect(g.points).toBe(3);
    expect(g.line).toBe('M0.0 60.0 L300.0 20.0 L600.0 5.0');
    expect(g.area).toBe('M0.0 60.0 L300.0 20.0 L600.0 5.0 L600.0 100.0 L0.0 100.0 Z');
  });

  it('uses `now` as the right edge and leaves out samples outside the window', () => {
    const samples = [
      { t: 0, bps: 10 * M },
      { t: 50_000, bps: 10 * M },
      { t: 80_000, bps: 10 * M },
    ];
    const g = chartGeometry(samples, { ...size, now: 70_000, windowMs: 40_000 });
    // Only t = 50 s is inside [30 s, 70 s]: x = (50 - 30) / 40 * 600; it is the peak, so y = 0.
    expect(g.points).toBe(1);
    expect(g.yMax).toBe(10 * M);
    expect(g.line).toBe('M300.0 0.0');
  });

  it('an idle link stays near the bottom: the top is at least minYMax', () => {
    const g = chartGeometry([{ t: 0, bps: 1000 }], { ...size, minYMax: M });
    expect(g.yMax).toBe(M);
    expect(g.line).toBe('M600.0 99.9');
  });

  it('every coordinate stays inside the drawing, over random windows', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let run = 0; run < 50; run++) {
      let w: ChartSample[] = [];
      for (let t = 0; t < 90_000; t += 100 + rand() * 2000) w = appendSample(w, { t, bps: rand() * 1e9 });
      const g = chartGeometry(w, size);
      const numbers = g.area.match(/-?\d+\.\d/g)!.map(Number);
      expect(numbers.every((n) => n >= 0 && n <= 600)).toBe(true);
      const ys = numbers.filter((_, i) => i % 2 === 1);
      expect(ys.every((y) => y <= 100)).toBe(true);
      expect(g.peak).toBeLessThanOrEqual(g.yMax);
      expect(g.points).toBe(w.length);
    }
  });

  it('defaults to the 60 s window', () => {
    expect(CHART_WINDOW_MS).toBe(60_000);
    const g = chartGeometry([{ t: 0, bps: M }, { t: 61_000, bps: M }], size);
    expect(g.points).toBe(1);
  });
});

describe('chartSpan', () => {
  const at = (...ts: number[]): ChartSample[] => ts.map((t) => ({ t, bps: 1 }));
  it('spans oldest to newest', () => expect(chartSpan(at(1000, 2000, 4500))).toBe(3500));
  it('never shorter than the minimum (no samples, one sample)', () => {
    expect(chartSpan([])).toBe(MIN_CHART_SPAN_MS);
    expect(chartSpan(at(5000))).toBe(MIN_CHART_SPAN_MS);
    expect(chartSpan(at(0, 100), 500)).toBe(500);
  });
  it('never longer than the 60 s window', () => expect(chartSpan(at(0, 90_000))).toBe(CHART_WINDOW_MS));
  it('a short transfer fills the chart: first sample at x = 0, last at the right edge', () => {
    const samples = [
      { t: 10_000, bps: 50 * M },
      { t: 12_500, bps: 100 * M },
    ];
    const g = chartGeometry(samples, { width: 600, height: 100, windowMs: chartSpan(samples) });
    expect(g.line).toBe('M0.0 50.0 L600.0 0.0');
  });
});
