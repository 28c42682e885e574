/**
 * The lane controller's decisions in one run, as one line each (`NETWORK_BENCH_LANE_LOG=1`): every add and
 * shed, and a hold whenever its reason changes (a run of the same hold is one line, with its count), with the
 * evidence each was judged on. The library hands them over through `sendFile`'s `onLaneDecision`.
 */
import type { LaneDecision } from '../../src/index';

const mbit = (bytesPerSecond: number): string => ((bytesPerSecond * 8) / 1e6).toFixed(1);

/** One decision as text: time since `startMs` (s), action, reason, lanes, and its sample. */
export function laneDecisionLine(d: LaneDecision, startMs: number): string {
  const s = d.sample;
  const rtt = `rtt ${s.rttMs.toFixed(0)} min ${s.rttMinMs.toFixed(0)}${s.rttPeakMs === undefined ? '' : ` peak ${s.rttPeakMs.toFixed(0)}`}${s.rttRecentMinMs === undefined ? '' : ` recent-min ${s.rttRecentMinMs.toFixed(0)}`} ms`;
  const change = d.action === 'hold' ? `${d.lanes} lanes` : `${d.action === 'add' ? '+' : '-'}${d.step} → ${d.lanes} lanes`;
  return `${((d.atMs - startMs) / 1000).toFixed(1)}s ${d.action} ${d.reason}: ${change}; goodput ${mbit(s.goodputBytesPerSecond)} Mbit/s, ${rtt}, loss ${(s.lossRate * 100).toFixed(2)} %`;
}

/** Collects a run's decisions; `lines()` folds runs of the same hold into their first line and a count. */
export function laneLog(startMs: number): { readonly onLaneDecision: (d: LaneDecision) => void; lines(): string[] } {
  const lines: string[] = [];
  let lastHold: string | undefined;
  let repeats = 0;
  const flush = () => {
    if (repeats > 0) lines.push(`  (… ${lastHold} ×${repeats} more)`);
    repeats = 0;
  };
  return {
    onLaneDecision: (d) => {
      if (d.action === 'hold' && d.reason === lastHold) {
        repeats++;
        return;
      }
      flush();
      lastHold = d.action === 'hold' ? d.reason : undefined;
      lines.push(laneDecisionLine(d, startMs));
    },
    lines: () => {
      flush();
      return [...lines];
    },
  };
}
