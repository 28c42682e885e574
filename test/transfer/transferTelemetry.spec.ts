/**
 * transferTelemetry's progress throttle: a transfer whose bytes are all confirmed at once (every file of a
 * session already held whole at the receiver) still gets progress at most once per `progressInterval`, plus the
 * final one. An outside check saw 2,005 receiver `progress` events in 8 s for 2,000 files held whole: every file
 * completed past the total emitted one at once.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/transfer/SessionEvent';
import { transferTelemetry } from '../../src/transfer/transferTelemetry';

describe('transferTelemetry: progress once every byte is confirmed', () => {
  it('emits when the total is reached, then at the throttle and the stop, not once per file completed', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const progress: { at: number; files: number }[] = [];
    scheduler.run(() => {
      let completed = 0;
      const files = 2000;
      const t = transferTelemetry({ channels: [], lanes: 1, total: 1000, scheduler, progressInterval: 100, statsInterval: 1000, files: () => ({ completed, total: files, active: [] }) });
      t.events$.subscribe((e: SessionEvent) => e.type === 'progress' && progress.push({ at: scheduler.now(), files: e.files.completed }));
      // Every file confirmed within the first 50 ms (held whole: no bytes to move).
      for (let i = 0; i < files; i++) {
        scheduler.schedule(() => {
          completed++;
          t.progress(1000);
        }, Math.floor((i * 50) / files));
      }
      scheduler.schedule(() => t.stop(), 250);
    });
    // Not one per file: the one that reached the total, the ticks after it while the count still moved, the stop's if anything is new.
    expect(progress.length).toBeLessThanOrEqual(4);
    expect(progress.at(-1)?.files).toBe(2000);
  });
});
