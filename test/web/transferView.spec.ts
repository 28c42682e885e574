// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import type { TransferStats } from '../../src/index';
import { createTransferView, type TransferView } from '../../examples/web/transferView';

const MiB = 1024 * 1024;

const stats = (t: number, bps: number, over: Partial<TransferStats> = {}): TransferStats => ({
  timestamp: t,
  elapsedMs: t,
  intervalMs: 250,
  final: false,
  throughput: { current: bps, average: bps, peak: bps, min: 0 },
  bytesDone: 4 * MiB,
  bytesTotal: 20 * MiB,
  percent: 20,
  etaSeconds: 3,
  rtt: { current: 1, min: 1, max: 1, avg: 1 },
  jitterMs: 0,
  lossRate: 0,
  buffers: { 'tallow-0': 256 * 1024, 'tallow-1': 2 * MiB },
  channels: 2,
  lanes: 2,
  chunkSize: 64 * 1024,
  bottleneck: 'none',
  quality: 35,
  recommendation: { action: 'none', reason: 'fine' },
  signals: { samples: 1, throughputBps: bps },
  ...over,
});

describe('createTransferView', () => {
  let view: TransferView;
  const q = <T extends Element>(sel: string) => view.element.querySelector(sel) as T;

  beforeEach(() => {
    document.body.replaceChildren();
    view = createTransferView(document, 'send', 'Send');
    document.body.append(view.element);
  });

  it('starts idle, labelled and inert', () => {
    expect(view.element.dataset.state).toBe('idle');
    expect(view.state).toBe('idle');
    expect(q<HTMLButtonElement>('#send-cancel').disabled).toBe(true);
    const progress = q<HTMLProgressElement>('progress');
    expect(progress.id).toBe('send-progress');
    expect(document.querySelector('label[for="send-progress"]')?.textContent).toBe('Send progress');
    expect(q('#send-status').getAttribute('aria-live')).toBe('polite');
    expect(q('svg').getAttribute('role')).toBe('img');
    expect(document.getElementById(q('svg').getAttribute('aria-labelledby')!)?.tagName).toBe('FIGCAPTION');
    expect(q('#send-quality').tagName).toBe('METER');
    expect(document.querySelector('label[for="send-quality"]')).not.toBeNull();
  });

  it('setState sets data-state and the live status line', () => {
    view.setState('cancelled', 'Cancelled by the receiver.');
    expect(view.element.dataset.state).toBe('cancelled');
    expect(view.state).toBe('cancelled');
    expect(q('#send-status').textContent).toBe('Cancelled by the receiver.');
  });

  it('showProgress fills the <progress> element, data-percent and (before accept) the line', () => {
    view.showProgress({ bytes: 10 * MiB, total: 20 * MiB, percent: 50 });
    expect(q<HTMLProgressElement>('progress').value).toBe(50);
    expect(view.element.dataset.percent).toBe('50');
    expect(q('#send-line').textContent).toBe('50.0 %');
  });

  it('for people: one line (percent, MB/s, time left), a quality word, the expert rows folded under Details', () => {
    view.begin(0);
    // 4 MiB done at 1.0 s, 8 MiB at 2.0 s: 4 MiB a second over the window.
    view.showStats(stats(1000, 40e6, { bytesDone: 4 * MiB, percent: 20, signals: { samples: 4, throughputBps: 40e6 }, quality: 90 }));
    view.showStats(stats(2000, 40e6, { bytesDone: 8 * MiB, percent: 40, signals: { samples: 5, throughputBps: 40e6 }, quality: 90 }));
    expect(q('#send-line').textContent).toBe('40.0 % · 4.2 MB/s · about 3 s left');
    expect(q('#send-quality-word').textContent).toBe('Excellent');
    expect(q('#send-quality-word').getAttribute('data-level')).toBe('good');
    expect(q<HTMLDetailsElement>('details').open).toBe(false);
    expect(q('details').contains(q('dl.stats'))).toBe(true);
    // Rows without a value are hidden: this sample has no jitter figure.
    view.showStats(stats(2250, 40e6, { jitterMs: undefined }));
    expect(q<HTMLElement>('#send-jitter').hidden).toBe(true);
    expect(q<HTMLElement>('#send-rtt').hidden).toBe(false);
  });

  it('a summary replaces the live numbers, and later samples do not bring them back', () => {
    view.begin(0);
    view.showStats(stats(1000, 40e6, { bytesDone: 4 * MiB }));
    view.showSummary({ outcome: 'cancelled', bytes: 4 * MiB, total: 20 * MiB, seconds: 1, files: { completed: 0, total: 1 } });
    view.showStats(stats(1250, 40e6, { bytesDone: 5 * MiB }));
    expect(q('#send-line').textContent).toBe('Stopped after 4.2 MB of 21.0 MB.');
    expect(view.element.dataset.summary).toBe('cancelled');
    expect(q('#send-quality-word').textContent).toBe('');
  });

  it('the receiving side has no send-buffer list', () => {
    const other = createTransferView(document, 'receive', 'Receive', { buffers: false });
    expect(other.element.querySelector('.buffers')).toBeNull();
  });

  it('showStats renders the rows, quality, buffers and chart, and counts updates', () => {
    view.showStats(stats(1000, 40e6));
    view.showStats(stats(1250, 80e6, { quality: 90 }));
    expect(q('#send-throughput').textContent).toBe('10.0 MB/s');
    expect(q('#send-rtt').textContent).toBe('1.00 ms');
    expect(q('#send-channels').textContent).toBe('2');
    expect(q('#send-lanes').textContent).toBe('2');
    expect(q('#send-chunkSize').textContent).toBe('64.0 KiB');
    // The recommendation shows only once it held for 8 samples (hysteresis).
    expect(q('#send-recommendation').textContent).toBe('—');
    // Attributes, not properties: happy-dom's HTMLMeterElement ignores the max attribute.
    expect(q('#send-quality').getAttribute('value')).toBe('90');
    expect(q('.quality').getAttribute('data-level')).toBe('good');
    expect(q('.quality-text').textContent).toBe('90 / 100');

    const meters = Array.from(view.element.querySelectorAll<HTMLMeterElement>('.buffers meter'));
    expect(meters.map((m) => [m.id, Number(m.getAttribute('value')), Number(m.getAttribute('max'))])).toEqual([
      ['send-buffer-0', 256 * 1024, MiB],
      // Above the 1 MiB scale, the meter's max grows with it.
      ['send-buffer-1', 2 * MiB, 2 * MiB],
    ]);
    expect(Array.from(view.element.querySelectorAll('.buffers label')).map((l) => [l.textContent, l.getAttribute('for')])).toEqual([
      ['tallow-0', 'send-buffer-0'],
      ['tallow-1', 'send-buffer-1'],
    ]);

    const svg = q<SVGSVGElement>('svg');
    expect(svg.dataset.updates).toBe('2');
    expect(svg.dataset.samples).toBe('2');
    expect(view.element.dataset.statsUpdates).toBe('2');
    // Two samples 250 ms apart on a 2 s span: the last at the right edge. The chart draws the
    // people speed (bytes counted over 2 s), which these two samples, 250 ms apart with the same
    // bytes, put at 0 (still measuring): a flat line at the bottom.
    expect(q('path.line').getAttribute('d')).toBe('M525.0 140.0 L600.0 140.0');
    expect(q('path.area').getAttribute('d')).toMatch(/Z$/);
    expect(q('.y-max').textContent).toBe('0.13 MB/s');
    expect(q('figcaption').textContent).toContain('2 samples, peak 0.00 MB/s');
  });

  it('reset clears the previous transfer', () => {
    view.showProgress({ bytes: 1, total: 2, percent: 50 });
    view.showStats(stats(1000, 1e6));
    view.reset('next.bin (1.0 MiB)');
    expect(q('.file-title').textContent).toBe('next.bin (1.0 MiB)');
    expect(q<HTMLProgressElement>('progress').value).toBe(0);
    expect(view.element.dataset.percent).toBe('0');
    expect(view.element.dataset.statsUpdates).toBe('0');
    expect(q('svg').getAttribute('data-updates')).toBe('0');
    expect(q('path.line').getAttribute('d')).toBe('');
    expect(view.element.querySelectorAll('.buffers li')).toHaveLength(0);
    expect(q('#send-throughput').textContent).toBe('—');
    // A new sample after the reset starts a new chart.
    view.showStats(stats(50_000, 1e6));
    expect(q('svg').getAttribute('data-samples')).toBe('1');
  });

  it('two views in one document get distinct ids', () => {
    const other = createTransferView(document, 'receive', 'Receive');
    document.body.append(other.element);
    const ids = Array.from(document.querySelectorAll('[id]'), (e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
