/**
 * An app that unsubscribes inside its own event handler (`started`, `file-started`): the session ends right
 * there, in the middle of the step that emitted the event. What that step would have started after the event
 * (a file's data path, the stats sampler, a target's open) must not start, and nothing may outlive the
 * transfer (an outside check: a sender's backpressure poll re-armed once a second for good, so the process never
 * exited and `TestScheduler.run()` never returned; a receiver's file, started in the handler, kept its empty part
 * file and its descriptor). Virtual time: after both ends, no action is left on the scheduler.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, receiveFiles, sendFile, sendFiles } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';
import { memoryTarget } from '../properties/memoryTarget';

/** Runs until nothing is scheduled (or `maxFrames`), and reports what was left. */
const runOut = (scheduler: TestScheduler): { leftActions: number; at: number } => {
  scheduler.maxFrames = 3_600_000;
  scheduler.flush();
  return { leftActions: scheduler.actions.length, at: scheduler.now() };
};

const LINKS = [
  { name: 'unlimited', bandwidth: Infinity },
  { name: '1 MB/s', bandwidth: 1e6 },
  { name: '200 kB/s', bandwidth: 2e5 },
] as const;

describe('unsubscribing inside an event handler', () => {
  for (const link of LINKS) {
    it(`sendFile, in its own 'started' (${link.name}): the receiver is told, and no timer is left`, () => {
      const scheduler = new TestScheduler(() => undefined);
      const l = createVirtualLink({ scheduler, delayMs: 10, bandwidth: link.bandwidth });
      let receiver = '';
      receiveFile(l.b, { scheduler }).subscribe({ error: (e: { code: string }) => (receiver = e.code), complete: () => (receiver = 'completed') });
      scheduler.schedule(() => {
        const s = sendFile(l.a, pattern(300_000, 1), { scheduler, profile: 'lan', inbandLanes: 0 }).subscribe({
          next: (e) => e.type === 'started' && s.unsubscribe(),
        });
      }, 1);
      const out = runOut(scheduler);
      expect(receiver).toBe('ERR_CANCELLED');
      expect(out.leftActions).toBe(0);
    });

    it(`sendFiles, in its session 'started' (${link.name}): no sampler or poll is left`, () => {
      const scheduler = new TestScheduler(() => undefined);
      const l = createVirtualLink({ scheduler, delayMs: 10, bandwidth: link.bandwidth });
      let receiver = '';
      receiveFiles(l.b, { scheduler }).subscribe({ error: (e: { code: string }) => (receiver = e.code), complete: () => (receiver = 'completed') });
      scheduler.schedule(() => {
        const s = sendFiles(l.a, [pattern(300_000, 2), pattern(50_000, 3)], { scheduler, profile: 'lan', inbandLanes: 0 }).subscribe({
          next: (e) => e.type === 'started' && s.unsubscribe(),
        });
      }, 1);
      const out = runOut(scheduler);
      expect(receiver).toBe('ERR_CANCELLED');
      expect(out.leftActions).toBe(0);
    });
  }

  for (const event of ['started', 'file-started'] as const) {
    it(`receiveFiles, in its '${event}': every target it opened is aborted, none opened after; the sender is told; no timer left`, () => {
      const scheduler = new TestScheduler(() => undefined);
      const l = createVirtualLink({ scheduler, delayMs: 10, bandwidth: 1e6 });
      const target = memoryTarget();
      let sender = '';
      const r = receiveFiles(l.b, { scheduler, target }).subscribe({ next: (e) => e.type === event && r.unsubscribe(), error: () => undefined });
      sendFiles(l.a, [pattern(300_000, 4)], { scheduler, profile: 'lan', inbandLanes: 0 }).subscribe({ error: (e: { code: string }) => (sender = e.code), complete: () => (sender = 'completed') });
      const out = runOut(scheduler);
      expect(sender).toBe('ERR_CANCELLED');
      expect(target.finishes).toBe(0);
      expect(target.aborts.length).toBe(target.opens.length);
      expect(out.leftActions).toBe(0);
    });
  }
});
