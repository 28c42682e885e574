/**
 * The fault property. Each case sends a random file (0 to 3 MiB, biased to
 * 0, 1 and 16 KiB ± 1 and to multiples of the chunk ± 1) with a random chunk
 * policy, 1-4 channels, 1-2 lanes and a reliability mode, over virtual links
 * with random faults: loss (unreliable only), reordering, duplication, jitter,
 * bit flips on the data channels, bandwidth limits, and sometimes a data
 * channel closed or a whole link failed mid-transfer.
 *
 * Property: the receiver ends with exactly the sent bytes (its SHA-256 equals
 * the source's and both `completed.sha256`), or both sides end with a typed
 * error whose code names a fault the case injected. Never a success with wrong
 * bytes, never a hang (each case has a virtual deadline), never an untyped
 * error; and afterwards every channel is closed, no timer is left and the
 * target was finished or aborted exactly once.
 *
 * Each case runs in virtual time (runTransferCase: one TestScheduler for the
 * links and both sides, inside `TestScheduler.run()`), so its outcome depends
 * on the case alone: a loaded machine makes a run slower, never different.
 *
 * `FC_RUNS`, `FC_SEED`, `FC_PATH` and `PROPS_REPORT=1`: see propsParams.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallowError } from '../../src/index';
import { propsParams, propsReport, propsRuns, propsSeed, propsTimeLimit } from './propsParams';
import { checkTransferCase, completeLost, runTransferCase, type CaseRun, type FaultCounts } from './runTransferCase';
import { transferCase, type TransferCase } from './transferCase';

/** Totals over every case run (shrinking runs included), printed with PROPS_REPORT=1. */
const totals = {
  cases: 0,
  outcomes: {} as Record<string, number>,
  faults: { dropped: 0, duplicated: 0, corrupted: 0, flipped: 0, reordered: 0, discarded: 0, channelsClosed: 0, linksFailed: 0 } as FaultCounts,
  casesWith: { loss: 0, duplicate: 0, reorder: 0, jitter: 0, corrupt: 0, flip: 0, bandwidth: 0, cut: 0, twoLanes: 0, unreliable: 0, emptyFile: 0 },
  bytesVerified: 0,
  /** Wall-clock ms: the slowest case and all of them. */
  slowestMs: 0,
  totalMs: 0,
  /** Virtual ms: the latest end of a case, and the longest a case took to close its channels after it ended. */
  latestEnd: 0,
  slowestClose: 0,
};

const count = (c: TransferCase, run: CaseRun) => {
  totals.cases++;
  const code = (end: CaseRun['receiver']) => (end.kind === 'error' ? (end.error instanceof TallowError ? end.error.code : 'untyped') : end.kind);
  let outcome = run.receiver.kind === 'completed' && run.sender.kind === 'completed' ? 'completed' : `failed ${code(run.receiver)}`;
  if (completeLost(c, run)) outcome = 'receiver completed, its complete lost with the link';
  const key = `${cutLabel(c, run)}: ${outcome}`;
  totals.outcomes[key] = (totals.outcomes[key] ?? 0) + 1;
  for (const k of Object.keys(totals.faults) as (keyof FaultCounts)[]) totals.faults[k] += run.faults[k];
  const w = totals.casesWith;
  if (run.faults.dropped) w.loss++;
  if (run.faults.duplicated) w.duplicate++;
  if (c.link.reorder > 0) w.reorder++;
  if (c.link.jitterMs > 0) w.jitter++;
  if (run.faults.corrupted) w.corrupt++;
  if (run.faults.flipped) w.flip++;
  if (Number.isFinite(c.link.bandwidth)) w.bandwidth++;
  if (run.cutFired) w.cut++;
  if (Math.min(c.connections, c.channels) === 2) w.twoLanes++;
  if (c.reliability === 'unreliable') w.unreliable++;
  if (c.size === 0) w.emptyFile++;
  if (run.received && run.receiver.kind === 'completed') totals.bytesVerified += run.received.length;
  totals.slowestMs = Math.max(totals.slowestMs, run.ms);
  totals.totalMs += run.ms;
  totals.latestEnd = Math.max(totals.latestEnd, run.endedAt ?? Infinity);
  totals.slowestClose = Math.max(totals.slowestClose, run.closedAfter ?? Infinity);
};

/** What the case's cut did, for the totals. */
const cutLabel = (c: TransferCase, run: CaseRun): string => {
  if (!run.cutFired || !c.cut) return 'no cut';
  const when = c.cut.at === 0 ? 'before data' : 'mid-transfer';
  if (c.cut.kind === 'fail-link') return `${c.cut.lane === 0 ? 'control link' : 'data-only link'} failed ${when}`;
  return `${c.channels === 1 ? 'only data channel' : 'one of several data channels'} closed ${when}`;
};

describe('sendFile → receiveFile under random faults, in virtual time', () => {
  it(
    `delivers exactly the sent bytes, or both sides fail with a typed error naming the cause (${propsRuns()} cases)`,
    () => {
      fc.assert(
        fc.property(transferCase, (c) => {
          const run = runTransferCase(c);
          count(c, run);
          const context = `case took ${run.endedAt?.toFixed(1) ?? '(no end)'} ms of virtual time (${run.ms.toFixed(0)} ms of wall time); faults ${JSON.stringify(run.faults)}`;
          expect(checkTransferCase(c, run), context).toEqual([]);
        }),
        propsParams(),
      );
      // The faults really happened.
      expect(totals.faults.corrupted + totals.faults.flipped + totals.faults.dropped + totals.faults.channelsClosed + totals.faults.linksFailed).toBeGreaterThan(0);
      if (propsReport()) {
        console.info(
          [
            `properties: ${totals.cases} cases in ${(totals.totalMs / 1000).toFixed(1)} s of wall time (slowest ${totals.slowestMs.toFixed(0)} ms), FC_SEED=${propsSeed()}`,
            `virtual time: the latest case ended at ${totals.latestEnd.toFixed(1)} ms; the slowest closed its channels ${totals.slowestClose.toFixed(1)} ms after it ended`,
            'outcomes:',
            ...Object.entries(totals.outcomes)
              .sort()
              .map(([k, n]) => `  ${k}: ${n}`),
            `faults injected: ${JSON.stringify(totals.faults)}`,
            `cases with: ${JSON.stringify(totals.casesWith)}`,
            `bytes verified: ${totals.bytesVerified}`,
          ].join('\n'),
        );
      }
    },
    propsTimeLimit() + 60_000,
  );
});

describe('the runner, in virtual time', () => {
  // 3 MiB at 20 MB/s takes about 160 ms of virtual time to cross; a 50 ms deadline stops it midway.
  const slow: TransferCase = {
    size: 3 * 1024 * 1024,
    chunk: undefined,
    channels: 2,
    connections: 1,
    reliability: 'reliable',
    link: { seed: 1, bandwidth: 20_000_000, delayMs: 1, jitterMs: 0, reorder: 0, duplicate: 0, lossRate: 0, corrupt: 0 },
    maxCorruptRetries: undefined,
    cut: undefined,
    flip: undefined,
  };

  it('reports a case that has not ended by its virtual deadline as a hang, at once', () => {
    const run = runTransferCase(slow, { deadline: 50 });
    expect(run.endedAt).toBeUndefined();
    expect([run.sender.kind, run.receiver.kind]).toEqual(['pending', 'pending']);
    expect(checkTransferCase(slow, run)).toEqual([expect.stringMatching(/^hang: sender pending, receiver pending/)]);
  });

  it('gives the same outcome, to the microsecond, every time', () => {
    const ends = () => {
      const run = runTransferCase(slow);
      expect(checkTransferCase(slow, run)).toEqual([]);
      return [run.endedAt, run.closedAfter, run.sender.kind === 'completed' && run.sender.event.sha256];
    };
    expect(ends()).toEqual(ends());
  });
});
