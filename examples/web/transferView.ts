/**
 * The DOM of one transfer (sending or receiving): progress, live stats, the
 * throughput chart, per-channel buffers and a cancel button. It renders the view
 * models of view.ts and the geometry of chart.ts; it holds no transfer logic.
 *
 * Counters for tests and tooling live in data attributes:
 * `data-state` (idle, offer, active, completed, cancelled, declined, failed),
 * `data-percent`, `data-stats-updates` on the root, `data-samples` and
 * `data-updates` on the chart's `<svg>`.
 */
import type { TransferStats } from '../../src/index';
import { DEFAULT_HIGH_WATER_MARK } from '../../src/operators/backpressure';
import { appendSample, chartGeometry, chartSpan, type ChartSample } from './chart';
import { formatRate } from './format';
import { progressView, statsView, type ProgressView, type StatsView } from './view';

/** States of a transfer view (its `data-state`). */
export type TransferState = 'idle' | 'offer' | 'active' | 'completed' | 'cancelled' | 'declined' | 'failed';

/** Chart size in SVG user units (it scales with CSS). */
export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 140;

const SVG = 'http://www.w3.org/2000/svg';

/** The stats rows, in display order: label and view-model field. */
const ROWS: ReadonlyArray<readonly [string, keyof StatsView]> = [
  ['Throughput', 'throughput'],
  ['Average', 'average'],
  ['Peak', 'peak'],
  ['Round-trip time', 'rtt'],
  ['Jitter', 'jitter'],
  ['Loss', 'loss'],
  ['Channels', 'channels'],
  ['Lanes', 'lanes'],
  ['Chunk size', 'chunkSize'],
  ['Bottleneck', 'bottleneck'],
  ['Recommendation', 'recommendation'],
];

/** A rendered transfer view. */
export interface TransferView {
  readonly element: HTMLElement;
  readonly cancelButton: HTMLButtonElement;
  /** Clears everything for a new transfer and shows `title` (the file). */
  reset(title: string): void;
  /** Sets `data-state` and the status line (an ARIA live region). */
  setState(state: TransferState, status: string): void;
  readonly state: TransferState;
  /** Renders a `progress` event. */
  showProgress(p: { bytes: number; total: number; percent: number }): ProgressView;
  /** Renders a `stats$` sample: stats rows, ETA, buffers, chart. */
  showStats(stats: TransferStats): StatsView;
}

const el = <K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] => {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};
const svgEl = (doc: Document, tag: string, attrs: Record<string, string> = {}): SVGElement => {
  const node = doc.createElementNS(SVG, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
};

/**
 * Builds the view. `prefix` makes element ids unique (`send`, `receive`);
 * `heading` is the visible title of the section that contains it.
 */
export function createTransferView(doc: Document, prefix: string, heading: string): TransferView {
  const id = (name: string): string => `${prefix}-${name}`;
  const root = el(doc, 'div', { class: 'transfer', 'data-state': 'idle', 'data-percent': '0', 'data-stats-updates': '0' });
  const status = el(doc, 'p', { class: 'status', id: id('status'), role: 'status', 'aria-live': 'polite' }, 'Nothing yet.');
  const title = el(doc, 'p', { class: 'file-title', id: id('file') }, '');

  const progressLabel = el(doc, 'label', { for: id('progress') }, `${heading} progress`);
  const progress = el(doc, 'progress', { id: id('progress'), max: '100', value: '0' });
  const line = el(doc, 'p', { class: 'progress-line' });
  const percent = el(doc, 'span', { class: 'percent', id: id('percent') }, '—');
  const bytes = el(doc, 'span', { class: 'bytes', id: id('bytes') }, '—');
  const eta = el(doc, 'span', { class: 'eta', id: id('eta') }, '—');
  line.append(percent, ' · ', bytes, ' · ETA ', eta);

  // Chart: grid, area, line, y-axis label.
  const figure = el(doc, 'figure', { class: 'chart' });
  const svg = svgEl(doc, 'svg', {
    viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-labelledby': id('chart-caption'),
    'data-samples': '0',
    'data-updates': '0',
  });
  svg.append(
    svgEl(doc, 'path', { class: 'grid', d: `M0 0.5 H${CHART_WIDTH} M0 ${CHART_HEIGHT / 2} H${CHART_WIDTH} M0 ${CHART_HEIGHT - 0.5} H${CHART_WIDTH}` }),
  );
  const area = svgEl(doc, 'path', { class: 'area', d: '' });
  const path = svgEl(doc, 'path', { class: 'line', d: '' });
  svg.append(area, path);
  const caption = el(doc, 'figcaption', { id: id('chart-caption') }, 'Throughput over the last 60 s: no samples yet.');
  const scale = el(doc, 'span', { class: 'y-max', 'aria-hidden': 'true' }, '');
  figure.append(scale, svg, caption);

  // Stats rows and quality meter.
  const dl = el(doc, 'dl', { class: 'stats' });
  const fields = new Map<keyof StatsView, HTMLElement>();
  for (const [label, key] of ROWS) {
    const dd = el(doc, 'dd', { id: id(key) }, '—');
    fields.set(key, dd);
    dl.append(el(doc, 'dt', {}, label), dd);
  }
  const qualityDd = el(doc, 'dd', { class: 'quality' });
  const qualityMeter = el(doc, 'meter', { id: id('quality'), min: '0', max: '100', low: '40', high: '70', optimum: '100', value: '0' });
  const qualityText = el(doc, 'span', { class: 'quality-text' }, '—');
  qualityDd.append(qualityMeter, ' ', qualityText);
  const qualityDt = el(doc, 'dt');
  qualityDt.append(el(doc, 'label', { for: id('quality') }, 'Quality'));
  dl.append(qualityDt, qualityDd);

  const buffersHeading = el(doc, 'h3', { id: id('buffers-heading') }, 'Send buffer per channel (bufferedAmount)');
  const buffers = el(doc, 'ul', { class: 'buffers', 'aria-labelledby': id('buffers-heading') });

  const cancelButton = el(doc, 'button', { type: 'button', class: 'cancel', id: id('cancel'), disabled: '' }, 'Cancel');

  root.append(status, title, progressLabel, progress, line, figure, dl, buffersHeading, buffers, cancelButton);

  let samples: ChartSample[] = [];
  let statsUpdates = 0;
  let chartUpdates = 0;
  let state: TransferState = 'idle';

  const renderBuffers = (view: StatsView): void => {
    const items = view.buffers.map((b, i) => {
      const li = el(doc, 'li');
      const meterId = id(`buffer-${i}`);
      const max = Math.max(DEFAULT_HIGH_WATER_MARK, b.bytes);
      li.append(
        el(doc, 'label', { for: meterId }, b.label),
        el(doc, 'meter', { id: meterId, min: '0', max: String(max), value: String(b.bytes) }),
        el(doc, 'span', { class: 'buffer-text' }, b.text),
      );
      return li;
    });
    buffers.replaceChildren(...items);
  };

  const renderChart = (): void => {
    const span = chartSpan(samples);
    const g = chartGeometry(samples, { width: CHART_WIDTH, height: CHART_HEIGHT, windowMs: span });
    path.setAttribute('d', g.line);
    area.setAttribute('d', g.area);
    svg.setAttribute('data-samples', String(g.points));
    svg.setAttribute('data-updates', String(++chartUpdates));
    scale.textContent = formatRate(g.yMax);
    caption.textContent = `Throughput over the last ${Math.round(span / 1000)} s (up to 60 s): ${g.points} samples, peak ${formatRate(g.peak)}, top of the scale ${formatRate(g.yMax)}.`;
  };

  return {
    element: root,
    cancelButton,
    get state() {
      return state;
    },
    reset(fileTitle) {
      samples = [];
      statsUpdates = 0;
      chartUpdates = 0;
      title.textContent = fileTitle;
      progress.value = 0;
      root.setAttribute('data-percent', '0');
      root.setAttribute('data-stats-updates', '0');
      percent.textContent = '0.0 %';
      bytes.textContent = '—';
      eta.textContent = '—';
      for (const dd of fields.values()) dd.textContent = '—';
      qualityMeter.setAttribute('value', '0');
      qualityText.textContent = '—';
      buffers.replaceChildren();
      path.setAttribute('d', '');
      area.setAttribute('d', '');
      svg.setAttribute('data-samples', '0');
      svg.setAttribute('data-updates', '0');
      scale.textContent = '';
      caption.textContent = 'Throughput over the last 60 s: no samples yet.';
    },
    setState(next, text) {
      state = next;
      root.setAttribute('data-state', next);
      status.textContent = text;
    },
    showProgress(p) {
      const view = progressView(p);
      progress.value = view.value;
      root.setAttribute('data-percent', String(view.value));
      percent.textContent = view.percent;
      bytes.textContent = view.bytes;
      return view;
    },
    showStats(stats) {
      const view = statsView(stats);
      for (const [key, dd] of fields) dd.textContent = view[key] as string;
      eta.textContent = view.eta;
      qualityMeter.setAttribute('value', String(view.qualityValue));
      qualityText.textContent = view.quality;
      qualityDd.setAttribute('data-level', view.qualityLevel);
      renderBuffers(view);
      samples = appendSample(samples, { t: stats.timestamp, bps: stats.throughput.current });
      renderChart();
      root.setAttribute('data-stats-updates', String(++statsUpdates));
      return view;
    },
  };
}
