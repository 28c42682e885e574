import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../bench/lib/browser/browserRunner';
import { checkTargets, formatBrowserTable, summarizeRuns, toBenchResults } from '../../bench/lib/browser/browserSummary';
import { summarizeLongTasks } from '../../bench/lib/browser/longTasks';

const MiB = 2 ** 20;

/** A run of `bytes` in `seconds`, with the given longest tasks on each page. */
const run = (seconds: number, longest: { send?: number; recv?: number } = {}, node = false): RunRecord => ({
  system: 'x',
  bytes: 256 * MiB,
  seconds,
  longTasks: { sender: summarizeLongTasks(longest.send ? [longest.send] : []), receiver: summarizeLongTasks(longest.recv ? [longest.recv] : []) },
  mainThreadSeconds: { sender: 1, receiver: node ? undefined : 0.5 },
  chromiumCpu: { renderer: 2, network: 1.5, browser: 0.01 },
  runnerCpuSeconds: 0.1,
});

const mbps = (seconds: number) => (256 * MiB * 8) / seconds / 1e6;

describe('summarizeLongTasks', () => {
  it('counts tasks over 50 ms, sums what they block beyond 50 ms and keeps the longest', () => {
    expect(summarizeLongTasks([60, 120, 30, 50])).toEqual({ count: 2, tbtMs: 80, maxMs: 120 });
  });

  it('is all zeros without long tasks', () => {
    expect(summarizeLongTasks([])).toEqual({ count: 0, tbtMs: 0, maxMs: 0 });
  });
});

describe('summarizeRuns', () => {
  it('takes the median throughput over runs and the longest task over all runs', () => {
    const s = summarizeRuns('tallow', 'tallow', [run(20, { send: 70 }), run(10), run(40, { recv: 90 })]);
    expect(s.mbps).toBeCloseTo(mbps(20));
    expect(s.minMbps).toBeCloseTo(mbps(40));
    expect(s.maxMbps).toBeCloseTo(mbps(10));
    expect(s.sender).toEqual({ count: 0, tbtMs: 0, maxMs: 70 });
    expect(s.receiver.maxMs).toBe(90);
    expect(s.chromiumCpu).toBeCloseTo(3.51);
  });

  it('has no figures and carries the error when every run failed', () => {
    const s = summarizeRuns('peerjs', 'peerjs', [], 'boom');
    expect(s.runs).toBe(0);
    expect(Number.isNaN(s.mbps)).toBe(true);
    expect(s.error).toBe('boom');
  });
});

describe('checkTargets', () => {
  const summaries = (tallowSeconds: number, longest = 0) => [
    summarizeRuns('raw', 'raw', [run(20)]),
    summarizeRuns('tallow-rx auto', 'tallow', [run(tallowSeconds, { send: longest })]),
    summarizeRuns('simple-peer', 'simple-peer', [run(30)]),
    summarizeRuns('PeerJS', 'peerjs', [run(25)]),
    summarizeRuns('tallow-rx → node', 'tallow', [run(10)], undefined),
  ];

  it('meets every target when tallow-rx is as fast as raw, 1.25× PeerJS, 1.5× simple-peer and never blocks', () => {
    const checks = checkTargets(summaries(20));
    expect(checks.filter((c) => c.what.startsWith('tallow-rx auto')).every((c) => c.met)).toBe(true);
  });

  it('misses the raw and PeerJS ratios at 0.8× raw, and the long-task target at 51 ms', () => {
    const checks = checkTargets(summaries(25, 51));
    const missed = checks.filter((c) => !c.met && c.what.startsWith('tallow-rx auto')).map((c) => c.what);
    expect(missed).toEqual(['tallow-rx auto ≥ 0.9× raw', 'tallow-rx auto ≥ 1.2× PeerJS', 'tallow-rx auto: no long task over 50 ms on either page']);
  });

  it('skips the Chromium → node row (no receiving page)', () => {
    const nodeRow = summarizeRuns('tallow-rx → node', 'tallow', [run(10, {}, true)]);
    expect(checkTargets([summarizeRuns('raw', 'raw', [run(20)]), nodeRow])).toEqual([]);
  });
});

describe('formatBrowserTable and toBenchResults', () => {
  const rows = [summarizeRuns('raw', 'raw', [run(20)]), summarizeRuns('tallow-rx', 'tallow', [run(40, { send: 120 })]), summarizeRuns('PeerJS', 'peerjs', [], 'no server')];

  it('prints one Markdown row per system with the ratio to raw and the long tasks', () => {
    const table = formatBrowserTable(rows).split('\n');
    expect(table).toHaveLength(5);
    expect(table[3]).toContain('| tallow-rx | 54 (54-54) | 0.50× | 1 / 70 / 120 | 0 / 0 / 0 |');
    expect(table[4]).toContain('FAILED: no server');
  });

  it('gives the common table MB/s and the ratio to raw', () => {
    const results = toBenchResults(rows, 256 * MiB);
    expect(results[0].ratio).toBeUndefined();
    expect(results[1].ratio).toBeCloseTo(0.5);
    expect(results[1].mbPerSecond).toBeCloseTo(mbps(40) / 8);
    expect(results[2].notes).toBe('FAILED: no server');
  });
});
