/** The lane controller's decisions in the stats: a `channels` input with `laneChange` shows as `lanes` and `laneChange`. */
import { filter, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { StatsInput, TransferStats } from '../../src/stats/statsTypes';
import { transferStats } from '../../src/stats/transferStats';
import { laneController, type LaneMeasurement } from '../../src/transfer/laneController';
import { testScheduler } from '../helpers/marbles';

describe('laneController in the stats', () => {
  it('reports the lane count and the last change, and keeps the change until the next one', () => {
    const scheduler = testScheduler();
    const seen: TransferStats[] = [];
    scheduler.run(({ cold }) => {
      const lossBound: LaneMeasurement = { goodputBytesPerSecond: 280_000, rttMs: 100, lossRate: 0.01 };
      const inputs = cold('a 999ms a 999ms a|', { a: lossBound }).pipe(
        laneController({ scheduler, initialLanes: 2 }),
        filter((d) => d.action !== 'hold'),
        map((d): StatsInput => ({ kind: 'channels', channels: d.lanes, lanes: d.lanes, laneChange: d.laneChange })),
      );
      inputs.pipe(transferStats({ scheduler, sampleIntervalMs: 500 })).subscribe((s) => seen.push(s));
    });
    expect(seen.map((s) => [s.timestamp, s.lanes, s.laneChange?.reason])).toEqual([
      [500, undefined, undefined],
      [1000, 3, 'loss-bound'], // the add at 1000 ms, in the sample closing then
      [1500, 3, 'loss-bound'],
      [2000, 3, 'loss-bound'],
      [2001, 3, 'loss-bound'], // the final sample, when the measurements complete
    ]);
    expect(seen.at(-1)!.laneChange).toEqual({ action: 'add', reason: 'loss-bound', lanes: 3, atMs: 1000 });
  });
});
