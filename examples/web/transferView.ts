/**
 * The DOM of one transfer (sending or receiving), for people first: a progress bar, one line
 * (percent, MB/s, time left), a quality word and a cancel button. A "Details" disclosure holds
 * the expert rows, the speed chart and (sender only) the per-channel send buffers. When the
 * transfer ends, a summary replaces the live line. It renders the view models of view.ts and
 * peopleStats.ts and the geometry of chart.ts; it holds no transfer logic.
 *
 * Counters for tests and tooling live in data attributes:
 * `data-state` (idle, offer, active, completed, cancelled, declined, failed),
 * `data-percent`, `data-stats-updates` and `data-summary` (set once a summary shows) on the
 * root, `data-samples` and `data-updates` on the chart's `<svg>`.
 */
import type { TransferStats } from '../../src/index';
import { DEFAULT_HIGH_WATER_MARK } from '../../src/operators/backpressure';
import { appendSample, chartGeometry, chartSpan, type ChartSample } from './chart';
import { formatSpeed, UNKNOWN } from './format';
import { createPeopleStats, summaryText, type PeopleView, type TransferSummary } from './peopleStats';
import { progressView, statsView, type ProgressView, type StatsView } from './view';

/** States of a transfer view (its `data-state`). */
export type TransferState = 'idle' | 'offer' | 'active' | 'completed' | 'cancelled' | 'declined' | 'failed';

/** Chart size in SVG user units (it scales with CSS). */
export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 140;

const SVG = 'http://www.w3.org/2000/svg';

/** The expert rows (under "Details"), in display order: label and view-model field. A row without a value is hidden. */
const ROWS: ReadonlyArray<readonly [string, keyof StatsView | keyof PeopleView]> = [
  ['Speed (2 s average)', 'speed'],
  ['Average since accept', 'average'],
  ['Peak (2 s average)', 'peak'],
  ['Network throughput now', 'throughput'],
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
  /** Starts the people figures of a new transfer: `startedAtMs` is when the receiver accepted (samples' clock). */
  begin(startedAtMs: number, fromBytes?: number): void;
  /** Renders a `stats$` sample: the simple line, quality word, detail rows, buffers, chart. */
  showStats(stats: TransferStats): { readonly stats: StatsView; readonly people: PeopleView };
  /** Replaces the live line with how the transfer ended; later samples change nothing. Returns the text. */
  showSummary(summary: TransferSummary): string;
}

/** Options of {@link createTransferView}. */
export interface TransferViewConfig {
  /** Show the per-channel send buffers (the sending side). Default true. */
  readonly buffers?: boolean;
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

/** The chart block: an SVG path of the speed over time, with a caption. */
function buildChart(doc: Document, id: (name: string) => string) {
  const figure = el(doc, 'figure', { class: 'chart' });
  const svg = svgEl(doc, 'svg', {
    viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-labelledby': id('chart-caption'),
    'data-samples': '0',
    'data-updates': '0',
  });
  svg.append(svgEl(doc, 'path', { class: 'grid', d: `M0 0.5 H${CHART_WIDTH} M0 ${CHART_HEIGHT / 2} H${CHART_WIDTH} M0 ${CHART_HEIGHT - 0.5} H${CHART_WIDTH}` }));
  const area = svgEl(doc, 'path', { class: 'area', d: '' });
  const path = svgEl(doc, 'path', { class: 'line', d: '' });
  svg.append(area, path);
  const caption = el(doc, 'figcaption', { id: id('chart-caption') }, 'Speed over the last 60 s: no samples yet.');
  const scale = el(doc, 'span', { class: 'y-max', 'aria-hidden': 'true' }, '');
  figure.append(scale, svg, caption);
  let samples: ChartSample[] = [];
  let updates = 0;
  return {
    figure,
    /** Adds a point (bits/s, the chart's unit) and redraws. */
    add(t: number, bps: number): void {
      samples = appendSample(samples, { t, bps });
      const span = chartSpan(samples);
      const g = chartGeometry(samples, { width: CHART_WIDTH, height: CHART_HEIGHT, windowMs: span });
      path.setAttribute('d', g.line);
      area.setAttribute('d', g.area);
      svg.setAttribute('data-samples', String(g.points));
      svg.setAttribute('data-updates', String(++updates));
      scale.textContent = formatSpeed(g.yMax / 8);
      caption.textContent = `Speed over the last ${Math.round(span / 1000)} s (up to 60 s): ${g.points} samples, peak ${formatSpeed(g.peak / 8)}, top of the scale ${formatSpeed(g.yMax / 8)}.`;
    },
    reset(): void {
      samples = [];
      updates = 0;
      path.setAttribute('d', '');
      area.setAttribute('d', '');
      svg.setAttribute('data-samples', '0');
      svg.setAttribute('data-updates', '0');
      scale.textContent = '';
      caption.textContent = 'Speed over the last 60 s: no samples yet.';
    },
  };
}

/** The expert rows and the quality meter, as a `<dl>`; rows without a value are hidden. */
function buildRows(doc: Document, id: (name: string) => string) {
  const dl = el(doc, 'dl', { class: 'stats' });
  const fields = new Map<string, { dt: HTMLElement; dd: HTMLElement }>();
  for (const [label, key] of ROWS) {
    const dt = el(doc, 'dt', {}, label);
    const dd = el(doc, 'dd', { id: id(key) }, UNKNOWN);
    fields.set(key, { dt, dd });
    dl.append(dt, dd);
  }
  const qualityDd = el(doc, 'dd', { class: 'quality' });
  const qualityMeter = el(doc, 'meter', { id: id('quality'), min: '0', max: '100', low: '40', high: '70', optimum: '100', value: '0' });
  const qualityText = el(doc, 'span', { class: 'quality-text' }, UNKNOWN);
  qualityDd.append(qualityMeter, ' ', qualityText);
  const qualityDt = el(doc, 'dt');
  qualityDt.append(el(doc, 'label', { for: id('quality') }, 'Quality score'));
  dl.append(qualityDt, qualityDd);
  const show = (values: Record<string, unknown>): void => {
    for (const [key, { dt, dd }] of fields) {
      const text = typeof values[key] === 'string' ? (values[key] as string) : UNKNOWN;
      dd.textContent = text;
      dt.hidden = dd.hidden = text === UNKNOWN;
    }
  };
  show({});
  return {
    dl,
    show,
    quality(value: number, text: string, level: string): void {
      qualityMeter.setAttribute('value', String(value));
      qualityText.textContent = text;
      qualityDd.setAttribute('data-level', level);
    },
  };
}

/**
 * Builds the view. `prefix` makes element ids unique (`send`, `receive`);
 * `heading` is the visible title of the section that contains it.
 */
export function createTransferView(doc: Document, prefix: string, heading: string, config: TransferViewConfig = {}): TransferView {
  const id = (name: string): string => `${prefix}-${name}`;
  const root = el(doc, 'div', { class: 'transfer', 'data-state': 'idle', 'data-percent': '0', 'data-stats-updates': '0' });
  const status = el(doc, 'p', { class: 'status', id: id('status'), role: 'status', 'aria-live': 'polite' }, 'Nothing yet.');
  const title = el(doc, 'p', { class: 'file-title', id: id('file') }, '');
  const progressLabel = el(doc, 'label', { for: id('progress') }, `${heading} progress`);
  const progress = el(doc, 'progress', { id: id('progress'), max: '100', value: '0' });
  const line = el(doc, 'p', { class: 'people-line', id: id('line') }, '');
  const word = el(doc, 'span', { class: 'quality-word', id: id('quality-word'), 'data-level': 'unknown' }, '');
  const lineRow = el(doc, 'div', { class: 'line-row' });
  lineRow.append(line, word);

  const details = el(doc, 'details', { class: 'details', id: id('details') });
  details.append(el(doc, 'summary', {}, 'Details'));
  const chart = buildChart(doc, id);
  const rows = buildRows(doc, id);
  details.append(rows.dl, chart.figure);
  const buffers = el(doc, 'ul', { class: 'buffers', 'aria-labelledby': id('buffers-heading') });
  if (config.buffers !== false) details.append(el(doc, 'h3', { id: id('buffers-heading') }, 'Send buffer per channel'), buffers);
  const cancelButton = el(doc, 'button', { type: 'button', class: 'cancel', id: id('cancel'), disabled: '' }, 'Cancel');
  root.append(status, title, progressLabel, progress, lineRow, cancelButton, details);

  let statsUpdates = 0;
  let state: TransferState = 'idle';
  let people = createPeopleStats({ startedAtMs: 0 });
  let begun = false;
  let summarised = false;

  const renderBuffers = (view: StatsView): void => {
    buffers.replaceChildren(
      ...view.buffers.map((b, i) => {
        const li = el(doc, 'li');
        const meterId = id(`buffer-${i}`);
        li.append(
          el(doc, 'label', { for: meterId }, b.label),
          el(doc, 'meter', { id: meterId, min: '0', max: String(Math.max(DEFAULT_HIGH_WATER_MARK, b.bytes)), value: String(b.bytes) }),
          el(doc, 'span', { class: 'buffer-text' }, b.text),
        );
        return li;
      }),
    );
  };

  return {
    element: root,
    cancelButton,
    get state() {
      return state;
    },
    reset(fileTitle) {
      statsUpdates = 0;
      begun = summarised = false;
      title.textContent = fileTitle;
      progress.value = 0;
      root.setAttribute('data-percent', '0');
      root.setAttribute('data-stats-updates', '0');
      root.removeAttribute('data-summary');
      line.textContent = '';
      word.textContent = '';
      word.setAttribute('data-level', 'unknown');
      rows.show({});
      rows.quality(0, UNKNOWN, 'unknown');
      buffers.replaceChildren();
      chart.reset();
    },
    setState(next, text) {
      state = next;
      root.setAttribute('data-state', next);
      status.textContent = text;
    },
    begin(startedAtMs, fromBytes = 0) {
      people = createPeopleStats({ startedAtMs, fromBytes });
      begun = true;
    },
    showProgress(p) {
      const view = progressView(p);
      progress.value = view.value;
      root.setAttribute('data-percent', String(view.value));
      if (!begun && !summarised) line.textContent = view.percent;
      return view;
    },
    showStats(stats) {
      const view = statsView(stats);
      const human = people.sample(stats);
      if (summarised) return { stats: view, people: human };
      if (begun) {
        line.textContent = human.line;
        word.textContent = human.quality.word;
        word.setAttribute('data-level', human.quality.level);
      }
      rows.show({ ...view, ...human, average: begun ? human.average : UNKNOWN });
      rows.quality(view.qualityValue, view.quality, view.qualityLevel);
      renderBuffers(view);
      chart.add(stats.timestamp, (human.rateBytesPerSecond ?? 0) * 8);
      root.setAttribute('data-stats-updates', String(++statsUpdates));
      return { stats: view, people: human };
    },
    showSummary(summary) {
      summarised = true;
      const text = summaryText(summary);
      line.textContent = text;
      root.setAttribute('data-summary', summary.outcome);
      if (summary.outcome !== 'completed' || word.getAttribute('data-level') === 'unknown') {
        word.textContent = '';
        word.setAttribute('data-level', 'unknown');
      }
      return text;
    },
  };
}
