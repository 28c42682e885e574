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
 * bytes, never a hang (each case has a deadline), never an untyped error; and
 * afterwards every channel is closed and the target was finished or aborted
 * exactly once. Cases run one after another (real time: the transfer layer
 * runs its own timers).
 *
 * `FC_RUNS`, `FC_SEED`, `FC_PATH` and `PROPS_REPORT=1`: see propsParams.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallowError } from '../../src/index';
import { propsParams, propsReport, propsRuns, propsSeed, propsTimeLimit } from './propsParams';
import { checkTransferCase, completeLost, runTransferCase, stalled, type CaseRun, type FaultCounts } from './runTransferCase';
import { transferCase, type TransferCase } from './transferCase';

/** Totals over every case run (shrinking runs included), printed with PROPS_REPORT=1. */
const totals = {
  cases: 0,
  outcomes: {} as Record<string, number>,
  faults: { dropped: 0, duplicated: 0, corrupted: 0, flipped: 0, reordered: 0, discarded: 0, channelsClosed: 0, linksFailed: 0 } as FaultCounts,
  casesWith: { loss: 0, duplicate: 0, reorder: 0, jitter: 0, corrupt: 0, flip: 0, bandwidth: 0, cut: 0, twoLanes: 0, unreliable: 0, emptyFile: 0 },
  bytesVerified: 0,
  slowestMs: 0,
  totalMs: 0,
  /** Cases run again because the process stalled (see `stalled`). */
  rerunStalled: 0,
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
  if (c.link.jitter > 0) w.jitter++;
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
};

/** What the case's cut did, for the totals. */
const cutLabel = (c: TransferCase, run: CaseRun): string => {
  if (!run.cutFired || !c.cut) return 'no cut';
  const when = c.cut.at === 0 ? 'before data' : 'mid-transfer';
  if (c.cut.kind === 'fail-link') return `${c.cut.lane === 0 ? 'control link' : 'data-only link'} failed ${when}`;
  return `${c.channels === 1 ? 'only data channel' : 'one of several data channels'} closed ${when}`;
};

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('sendFile → receiveFile under random faults', () => {
  it(
    `delivers exactly the sent bytes, or both sides fail with a typed error naming the cause (${propsRuns()} cases)`,
    async () => {
      const before = timeouts();
      await fc.assert(
        fc.asyncProperty(transferCase, async (c) => {
          let run = await runTransferCase(c);
          // A case decided by a stall of the whole process (see `stalled`) is run again once.
          if (stalled(c, run)) {
            totals.rerunStalled++;
            run = await runTransferCase(c);
          }
          count(c, run);
          const context = `case took ${run.ms.toFixed(0)} ms (event loop up to ${run.maxLagMs.toFixed(0)} ms late); faults ${JSON.stringify(run.faults)}`;
          expect(checkTransferCase(c, run), context).toEqual([]);
        }),
        propsParams(),
      );
      // Cleanup across the whole run: no timer of any transfer outlives it (closeSoon timers run out within 100 ms).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(timeouts()).toBeLessThanOrEqual(before);
      // The faults really happened.
      expect(totals.faults.corrupted + totals.faults.flipped + totals.faults.dropped + totals.faults.channelsClosed + totals.faults.linksFailed).toBeGreaterThan(0);
      if (propsReport()) {
        console.info(
          [
            `properties: ${totals.cases} cases in ${(totals.totalMs / 1000).toFixed(1)} s (slowest ${totals.slowestMs.toFixed(0)} ms), FC_SEED=${propsSeed()}`,
            'outcomes:',
            ...Object.entries(totals.outcomes)
              .sort()
              .map(([k, n]) => `  ${k}: ${n}`),
            `faults injected: ${JSON.stringify(totals.faults)}`,
            `cases with: ${JSON.stringify(totals.casesWith)}`,
            `bytes verified: ${totals.bytesVerified}`,
            `cases run again after a process stall: ${totals.rerunStalled}`,
          ].join('\n'),
        );
      }
    },
    propsTimeLimit() + 60_000,
  );
});
