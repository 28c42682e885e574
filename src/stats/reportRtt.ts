/**
 * The round-trip time an `RTCStatsReport` gives, and the helpers that find it, shared with
 * `parseStatsReport`. A transfer needs only this of a report (its `auto` probe and the RTT poll of its
 * stats), so it does not pay for the whole parse in its bundle.
 */

/** A stats report: anything with `forEach((stat, id) => …)`, like `RTCStatsReport` or a `Map`. */
export interface StatsReportLike {
  forEach(cb: (stat: any, key: string) => void): void;
}

/** Where `rttMs` came from. */
export type RttSource = 'candidate-pair' | 'candidate-pair-average' | 'sctp';
/**
 * How to read `currentRoundTripTime`. `'auto'`: seconds when the pair has a
 * numeric `responsesReceived` (spec-shaped stacks), otherwise milliseconds
 * when the value is an integer (node-datachannel), otherwise seconds.
 */
export type RttUnit = 'auto' | 'seconds' | 'milliseconds';

/** A finite number, else undefined. */
export const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
/** A finite number >= 0, else undefined. */
export const count = (x: unknown): number | undefined => {
  const n = num(x);
  return n !== undefined && n >= 0 ? n : undefined;
};

/** The report's stats grouped by `type` (stats without a string `type` are dropped); `of(type)` lists one group. */
export function groupStats(report: StatsReportLike): (type: string) => any[] {
  const byType = new Map<string, any[]>();
  report.forEach((stat) => {
    if (stat === null || typeof stat !== 'object' || typeof stat.type !== 'string') return;
    let list = byType.get(stat.type);
    if (!list) byType.set(stat.type, (list = []));
    list.push(stat);
  });
  return (type) => byType.get(type) ?? [];
}

/** The selected pair: the transport's `selectedCandidatePairId`, Firefox's `selected`, nominated+succeeded, then succeeded. */
export function selectedPair(pairs: readonly any[], transports: readonly any[]): any {
  for (const t of transports) {
    const p = pairs.find((c) => c.id === t.selectedCandidatePairId);
    if (p) return p;
  }
  return (
    pairs.find((p) => p.selected === true) ??
    pairs.find((p) => p.nominated === true && p.state === 'succeeded') ??
    pairs.find((p) => p.state === 'succeeded')
  );
}

/** RTT of the pair in ms, following `unit`. */
function pairRtt(pair: any, unit: RttUnit): { ms: number; source: RttSource } | undefined {
  const current = num(pair.currentRoundTripTime);
  if (current !== undefined && current >= 0) {
    const ms =
      unit === 'milliseconds' || (unit === 'auto' && count(pair.responsesReceived) === undefined && Number.isInteger(current))
        ? current
        : current * 1000;
    return { ms, source: 'candidate-pair' };
  }
  const total = count(pair.totalRoundTripTime);
  const responses = count(pair.responsesReceived);
  if (total !== undefined && responses) return { ms: (total / responses) * 1000, source: 'candidate-pair-average' };
  return undefined;
}

/** SCTP's smoothed RTT in ms (`sctp-transport`, an early-spec stat few stacks expose). */
export const sctpRttMs = (sctp: any): number | undefined => (count(sctp?.smoothedRoundTripTime) !== undefined ? sctp.smoothedRoundTripTime * 1000 : undefined);

/** The RTT of grouped stats: the selected pair's, else SCTP's smoothed RTT. */
export function rttOf(of: (type: string) => any[], unit: RttUnit): { ms: number; source: RttSource } | undefined {
  const pair = selectedPair(of('candidate-pair'), of('transport'));
  const rtt = pair ? pairRtt(pair, unit) : undefined;
  const sctpMs = rtt ? undefined : sctpRttMs(of('sctp-transport')[0]);
  return rtt ?? (sctpMs === undefined ? undefined : { ms: sctpMs, source: 'sctp' });
}

/**
 * The round-trip time a stats report gives, in ms: the selected candidate pair's (`currentRoundTripTime`,
 * else `totalRoundTripTime / responsesReceived`), else SCTP's smoothed RTT; undefined when it has none.
 * The same RTT as `parseStatsReport(report, …).rttMs`, also for a report that has nothing to count bytes
 * from (which `parseStatsReport` answers with `undefined`).
 *
 * ## Example
 * ```ts
 * import { reportRtt } from './reportRtt'; // internal: the package exports rtt$
 * console.log(reportRtt(await pc.getStats())?.ms);
 * ```
 *
 * @param report The report from `getStats()`.
 * @param unit How to read `currentRoundTripTime`. Default `'auto'`.
 * @return The RTT and where it came from, or undefined.
 */
export const reportRtt = (report: StatsReportLike, unit: RttUnit = 'auto'): { ms: number; source: RttSource } | undefined => rttOf(groupStats(report), unit);
