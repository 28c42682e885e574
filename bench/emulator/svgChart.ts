/**
 * A grouped bar chart as a hand-written SVG string (no chart library): one
 * group per scenario, one bar per system, log-scaled throughput axis (the
 * scenarios span three orders of magnitude), the link rate as a dashed line
 * over its group, and each bar's value printed above it.
 */

/** One group of bars. */
export interface ChartGroup {
  readonly label: string;
  /** A second label line (the link). */
  readonly sublabel?: string;
  /** Link rate, same unit as the values; drawn as a dashed line. */
  readonly limit?: number;
  /** One value per series (undefined: not measured). */
  readonly values: ReadonlyArray<number | undefined>;
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly unit: string;
  readonly series: readonly string[];
  readonly groups: readonly ChartGroup[];
}

const COLORS = ['#9e9e9e', '#6d6d6d', '#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const format = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

/** Renders `spec` as a standalone SVG document. */
export function groupedBarChart(spec: ChartSpec): string {
  const bar = 16;
  const gap = 26;
  const left = 64;
  const top = 70;
  const plotH = 320;
  const bottom = 64;
  const legendH = 22 * Math.ceil((spec.series.length + 1) / 4);
  const groupW = spec.series.length * bar;
  const width = Math.max(left + spec.groups.length * (groupW + gap) + gap, left + 4 * 170 + 20, 760);
  const height = top + plotH + bottom + legendH;
  const all = spec.groups.flatMap((g) => [...g.values, g.limit]).filter((v): v is number => v !== undefined && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, 10))));
  const y = (v: number): number => top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${escape(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${left}" y="40" fill="#555">${escape(spec.subtitle)}</text>`);
  // Grid: every power of ten, labelled.
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const yy = y(d).toFixed(1);
    out.push(`<line x1="${left}" x2="${width - gap / 2}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#555">${Number(d.toPrecision(1))}</text>`);
  }
  out.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escape(spec.unit)} (log scale)</text>`);
  spec.groups.forEach((g, gi) => {
    const x0 = left + gap + gi * (groupW + gap);
    g.values.forEach((v, si) => {
      if (v === undefined || !(v > 0)) {
        out.push(`<text x="${x0 + si * bar + bar / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#999" font-size="9">–</text>`);
        return;
      }
      const yy = y(v);
      out.push(`<rect x="${x0 + si * bar + 1}" y="${yy.toFixed(1)}" width="${bar - 2}" height="${(top + plotH - yy).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${g.label} · ${spec.series[si]}: ${format(v)} ${spec.unit}`)}</title></rect>`);
      out.push(`<text transform="translate(${x0 + si * bar + bar / 2 + 3} ${(yy - 3).toFixed(1)}) rotate(-90)" font-size="9" fill="#333">${format(v)}</text>`);
    });
    if (g.limit !== undefined) {
      const yy = y(g.limit).toFixed(1);
      out.push(`<line x1="${x0 - 4}" x2="${x0 + groupW + 4}" y1="${yy}" y2="${yy}" stroke="#c00" stroke-dasharray="4 3"/>`);
    }
    out.push(`<text x="${x0 + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle" font-weight="bold">${escape(g.label)}</text>`);
    if (g.sublabel) out.push(`<text x="${x0 + groupW / 2}" y="${top + plotH + 30}" text-anchor="middle" fill="#555" font-size="9">${escape(g.sublabel)}</text>`);
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  // Legend.
  const ly = top + plotH + bottom - 8;
  spec.series.forEach((s, si) => {
    const lx = left + (si % 4) * 170;
    const yy = ly + Math.floor(si / 4) * 22;
    out.push(`<rect x="${lx}" y="${yy - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${yy}">${escape(s)}</text>`);
  });
  const lx = left + (spec.series.length % 4) * 170;
  const lyy = ly + Math.floor(spec.series.length / 4) * 22;
  out.push(`<line x1="${lx}" x2="${lx + 14}" y1="${lyy - 4}" y2="${lyy - 4}" stroke="#c00" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${lx + 18}" y="${lyy}">link rate</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
