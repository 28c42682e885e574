/**
 * Closing the loop (virtual time): RTT measured by ping/pong over a virtual
 * control channel feeds `transferStats`, whose samples drive `adaptiveChunk`.
 * When the link's RTT steps from 5 ms to 150 ms mid-transfer, the chunk size
 * moves as the decision tree says and the recommendation changes.
 */
import { filter, interval, map, merge, Observable, shareReplay, Subject, Subscription, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adaptiveChunk, backpressure, encodeFrames, roundRobin, sendToChannels, type TransferStats } from '../../src/index';
import { transferStats, type StatsInput } from '../../src/stats';
import { chunkPolicy } from '../../src/operators/chooseChunkSize';
import { answerPings } from '../../src/stats/answerPings';
import { pingRtt } from '../../src/stats/pingRtt';
import { createVirtualLink } from '../../src/testing';
import { testScheduler } from '../helpers/marbles';

const strings = (ch: { addEventListener(t: string, l: (e: any) => void): void; removeEventListener(t: string, l: (e: any) => void): void }): Observable<string> =>
  new Observable<string>((s) => {
    const on = (e: { data: unknown }) => {
      if (typeof e.data === 'string') s.next(e.data);
    };
    ch.addEventListener('message', on);
    return () => ch.removeEventListener('message', on);
  });

describe('RTT step 5 ms -> 150 ms on a virtual link', () => {
  it('moves the chunk size as the decision tree says and changes the recommendation', () => {
    const ts = testScheduler();
    ts.run(({ flush }) => {
      const link = createVirtualLink({ scheduler: ts, delayMs: 2.5 });
      const [[pingA], [pingB]] = link.createChannels(1, { label: 'ping' });
      const [dataA] = link.createChannels(2, { label: 'data', ordered: false });
      // Pings every 100 ms, answered by the far side.
      const rtt$ = pingRtt((m) => pingA.send(m), strings(pingA), { intervalMs: 100, scheduler: ts });
      const subs = new Subscription();
      subs.add(answerPings(strings(pingB), (m) => pingB.send(m)).subscribe());
      // 64 KiB every 10 ms for 4 s: the transfer spans the step at t = 2000.
      const bytes$ = interval(10, ts).pipe(
        take(400),
        map(() => new Uint8Array(64 * 1024)),
      );
      const inputs = new Subject<StatsInput>();
      const stats$ = inputs.pipe(transferStats({ sampleIntervalMs: 250, scheduler: ts, profile: 'lan' }), shareReplay({ bufferSize: 1, refCount: false }));
      const samples: TransferStats[] = [];
      stats$.subscribe((s) => samples.push(s));
      subs.add(rtt$.subscribe((ms) => inputs.next({ kind: 'rtt', ms })));
      const conditions$ = stats$.pipe(
        filter((s) => s.rtt.current !== undefined),
        map((s) => ({ rttMs: s.rtt.current!, bitrateBps: s.throughput.current || undefined })),
      );
      const cuts: Array<[number, number]> = [];
      subs.add(merge(bytes$)
        .pipe(
          adaptiveChunk(conditions$, { initialSize: 64 * 1024 }),
          map((c) => {
            cuts.push([ts.now(), c.data.length]);
            inputs.next({ kind: 'chunk-size', bytes: c.data.length });
            return c;
          }),
          encodeFrames({ transferId: 1 }),
          roundRobin(dataA, { high: 1 << 20 }),
          backpressure({ high: 1 << 20, low: 1 << 18, scheduler: ts }),
          sendToChannels(),
        )
        .subscribe((n) => inputs.next({ kind: 'progress', bytes: n - 32 })));
      ts.schedule(() => link.reconfigure({ delayMs: 75 }), 2000);
      ts.schedule(() => {
        inputs.complete();
        subs.unsubscribe();
        link.close();
      }, 4200);
      flush();

      const before = cuts.filter(([t]) => t > 1000 && t < 2000).map(([, n]) => n);
      const after = cuts.filter(([t]) => t > 3000 && t < 4000).map(([, n]) => n);
      expect(before.length).toBeGreaterThan(10);
      expect(after.length).toBeGreaterThan(10);
      // The decision tree: RTT < 10 ms is LAN (clamped to the message size), 100-200 ms is 32 KiB.
      const lan = chunkPolicy({ rttMs: 5, bitrateBps: 52e6 }).size;
      const slow = chunkPolicy({ rttMs: 150 }).size;
      expect(lan).toBe(262_112);
      expect(slow).toBe(32 * 1024);
      expect(new Set(before)).toEqual(new Set([lan]));
      expect(new Set(after)).toEqual(new Set([slow]));
      // Stats saw both RTTs, and the recommendation changed with them.
      const early = samples.filter((s) => s.timestamp > 1000 && s.timestamp <= 2000);
      const late = samples.filter((s) => s.timestamp > 3000 && s.timestamp <= 4000);
      expect(early.every((s) => s.rtt.current === 5)).toBe(true);
      expect(late.every((s) => s.rtt.current === 150)).toBe(true);
      const recEarly = early.at(-1)!.recommendation;
      const recLate = late.at(-1)!.recommendation;
      expect(recLate).not.toEqual(recEarly);
      expect(recLate.action).toBe('switch-profile');
      expect(recLate.profile).toBe('poor');
    });
  });
});
