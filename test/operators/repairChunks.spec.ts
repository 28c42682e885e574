import { of, NEVER, EMPTY, Observable, mergeMap, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HashMismatchError, InvalidConfigError } from '../../src/errors';
import { crc32 } from '../../src/hash/crc32';
import { repairChunks } from '../../src/operators/repairChunks';
import type { Chunk } from '../../src/types';
import { countingScheduler, pattern, testScheduler } from '../helpers/marbles';
import { thrownBy } from '../helpers/thrown';

const chunk = (index: number, corrupt = false): Chunk => {
  const data = pattern(8, index);
  return { index, offset: index * 8, data, checksum: corrupt ? crc32(data) ^ 1 : crc32(data) };
};

describe('repairChunks', () => {
  it('passes intact chunks through unchanged', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const nacks: number[][] = [];
      const src = cold('-a-b-c-|', { a: chunk(0), b: chunk(2), c: chunk(1) });
      expectObservable(src.pipe(repairChunks({ nack: (n) => nacks.push(n) }))).toBe('-a-b-c-|', { a: chunk(0), b: chunk(2), c: chunk(1) });
    });
  });

  it('drops a corrupted chunk and NACKs it at once', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const nacks: number[][] = [];
      const src = cold('-a-x-|', { a: chunk(0), x: chunk(1, true) });
      expectObservable(src.pipe(repairChunks({ nack: (n) => nacks.push(n) }))).toBe('-a---|', { a: chunk(0) });
      flush();
      expect(nacks).toEqual([[1]]);
    });
  });

  it('with checksumOf, compares the CRC it gives (computed elsewhere, as the hash worker does) instead of computing one', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const nacks: number[][] = [];
      const good = chunk(0);
      const lied = chunk(1);
      // Intact bytes, but the CRC computed elsewhere says otherwise: the chunk counts as corrupted.
      const actual = new Map<Chunk, number>([
        [good, good.checksum!],
        [lied, lied.checksum! ^ 4],
      ]);
      const src = cold('-a-x-|', { a: good, x: lied });
      expectObservable(src.pipe(repairChunks({ nack: (n) => nacks.push(n), checksumOf: (c) => actual.get(c)! }))).toBe('-a---|', { a: good });
      flush();
      expect(nacks).toEqual([[1]]);
    });
  });

  it('fails with HashMismatchError once retries are exhausted', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const x = chunk(3, true);
      const src = cold('-x-x-x-|', { x });
      const err = new HashMismatchError(3, (x.checksum! >>> 0).toString(16).padStart(8, '0'), crc32(x.data).toString(16).padStart(8, '0'), 'crc32');
      expectObservable(src.pipe(repairChunks({ nack: () => undefined, maxCorruptRetries: 2 }))).toBe('-----#', undefined, err);
    });
  });

  it('with detectGaps, NACKs a missing index after nackDelayMs and again every nackDelayMs', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable, flush }) => {
      const nacks: Array<[number, number[]]> = [];
      const src = hot('-a-c 500ms b|', { a: chunk(0), b: chunk(1), c: chunk(2) });
      const out = src.pipe(repairChunks({ nack: (n) => nacks.push([ts.now(), n]), detectGaps: true, nackDelayMs: 100 }));
      expectObservable(out).toBe('-a-c 500ms b|', { a: chunk(0), b: chunk(1), c: chunk(2) });
      flush();
      // Index 1 is first seen missing at the first scan (t=53), NACKed 100 ms later, then every 100 ms until it arrives at t=504.
      expect(nacks.map(([t]) => t)).toEqual([153, 253, 353, 453]);
      expect(nacks.every(([, n]) => n.length === 1 && n[0] === 1)).toBe(true);
    });
  });

  it('with end known, NACKs the missing tail', () => {
    testScheduler().run(({ hot, cold, flush }) => {
      const nacks: number[][] = [];
      const end = cold('--e', { e: 4 });
      hot('-a-b 300ms |', { a: chunk(0), b: chunk(1) })
        .pipe(repairChunks({ nack: (n) => nacks.push(n), detectGaps: true, nackDelayMs: 100, end }))
        .subscribe();
      flush();
      expect(nacks[0]).toEqual([2, 3]);
    });
  });

  describe('with channelOf: gaps judged per channel (each channel\'s queue drains at its own pace)', () => {
    const on = (via: string, index: number) => ({ ...chunk(index), via });
    /** Runs `marble` (values: A0 = index 0 on channel A, …) through repairChunks with detectGaps; returns the NACKs with their times. */
    const nacksOf = (marble: string, values: Record<string, ReturnType<typeof on>>, withChannels: boolean, chunks?: number) => {
      const ts = testScheduler();
      const nacks: Array<[number, number[]]> = [];
      ts.run(({ hot, cold, flush }) => {
        const channelOf = withChannels ? (c: Chunk) => (c as ReturnType<typeof on>).via : undefined;
        const end = chunks === undefined ? undefined : cold('e', { e: chunks });
        hot(marble, values).pipe(repairChunks<Chunk>({ nack: (n) => nacks.push([ts.now(), n]), detectGaps: true, nackDelayMs: 100, channelOf, end })).subscribe();
        flush();
      });
      return nacks;
    };
    // Even indexes on A, odd on B; A runs 700 ms behind B (its queue is longer). Nothing is lost.
    const lagging = { a: on('A', 0), b: on('B', 1), d: on('B', 3), f: on('B', 5), c: on('A', 2), e: on('A', 4) };
    const LAG = 'a-b-d-f 700ms c-e|';

    it('a channel running behind another: no NACK (without channelOf, every chunk of the slower one was NACKed)', () => {
      expect(nacksOf(LAG, lagging, true)).toEqual([]);
      expect(nacksOf(LAG, lagging, false).flatMap(([, n]) => n)).toEqual(expect.arrayContaining([2, 4]));
    });

    it('a chunk lost on one channel: NACKed once a later index came on every channel still delivering', () => {
      // 2 (on A) is lost: A delivers 4 at 300 ms, B delivers 1, 3, 5 early.
      const nacks = nacksOf('a-b-d-f 300ms e 600ms |', { a: on('A', 0), b: on('B', 1), d: on('B', 3), f: on('B', 5), e: on('A', 4) }, true);
      expect(nacks.length).toBeGreaterThan(0);
      expect(nacks[0][1]).toEqual([2]);
      // Not before A passed it (at 307 ms), then within nackDelayMs and one scan.
      expect(nacks[0][0]).toBeGreaterThanOrEqual(307);
      expect(nacks[0][0]).toBeLessThanOrEqual(307 + 150);
    });

    it('a channel that went quiet for longer than the link\'s pace no longer holds the judgement: what it owed is NACKed', () => {
      // A delivers 0 and falls silent (closed, or stalled); B goes on with 1, 3, 5, 7, one every 400 ms.
      const nacks = nacksOf('a-b 400ms d 400ms f 400ms g 1s |', { a: on('A', 0), b: on('B', 1), d: on('B', 3), f: on('B', 5), g: on('B', 7) }, true);
      expect(nacks.length).toBeGreaterThan(0);
      // A's last chunk came at 0 ms. Two channels at the link's 401 ms a chunk: A owes one every 802 ms, so from
      // twice that (1604 ms; at least 1 s) it no longer counts, and 2 is NACKed within nackDelayMs and a scan.
      expect(nacks[0][0]).toBeGreaterThanOrEqual(1604);
      expect(nacks[0][0]).toBeLessThanOrEqual(1604 + 150);
      expect(nacks[0][1]).toEqual(expect.arrayContaining([2, 4]));
    });

    it('a slow link (a chunk every 1.5 s, the end known): nothing still on its way is NACKed; a lost chunk is, once its channel passed it', () => {
      // A: 0, 2, 4; B: 1, 3, 5, one chunk every 1.5 s in turn, 6 chunks announced. Before 7 Dec 2026 every channel
      // was quiet a second after each chunk, so every index not yet arrived was NACKed and sent twice.
      const slow = { a: on('A', 0), b: on('B', 1), c: on('A', 2), d: on('B', 3), e: on('A', 4), f: on('B', 5) };
      // The first chunk comes 900 ms after the start (before it, a second of nothing would NACK).
      expect(nacksOf('900ms a 1499ms b 1499ms c 1499ms d 1499ms e 1499ms f 2s |', slow, true, 6)).toEqual([]);
      // 2 is lost on A: NACKed once A delivers 4 (at 6.9 s), not before.
      const lost = nacksOf('900ms a 1499ms b 2999ms d 1499ms e 1499ms f 2s |', { a: slow.a, b: slow.b, d: slow.d, e: slow.e, f: slow.f }, true, 6);
      expect(lost.length).toBeGreaterThan(0);
      expect(lost[0][1]).toEqual([2]);
      expect(lost[0][0]).toBeGreaterThanOrEqual(6900);
      expect(lost[0][0]).toBeLessThanOrEqual(6900 + 150);
    });
  });

  it('does not NACK gaps without detectGaps', () => {
    testScheduler().run(({ hot, flush }) => {
      const nacks: number[][] = [];
      hot('-a-c 500ms |', { a: chunk(0), c: chunk(2) }).pipe(repairChunks({ nack: (n) => nacks.push(n), nackDelayMs: 10 })).subscribe();
      flush();
      expect(nacks).toEqual([]);
    });
  });

  it('handles empty, never and error', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const e = cold<Chunk>('|');
      expectObservable(e.pipe(repairChunks({ nack: () => undefined }))).toBe('|');
      const n = cold<Chunk>('-');
      expectObservable(n.pipe(repairChunks({ nack: () => undefined }))).toBe('-');
      const err = cold<Chunk>('--#');
      expectObservable(err.pipe(repairChunks({ nack: () => undefined }))).toBe('--#');
      expectSubscriptions(err.subscriptions).toBe('^-!');
    });
    expect(EMPTY.pipe(repairChunks({ nack: () => undefined }))).toBeInstanceOf(Observable);
    expect(NEVER).toBeDefined();
  });

  it('unsubscribes early and through chains', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('-a-b-c-|', { a: chunk(0), b: chunk(1), c: chunk(2) });
      expectObservable(src.pipe(repairChunks({ nack: () => undefined })), '^--!').toBe('-a-', { a: chunk(0) });
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('-a-b-c-|', { a: chunk(0), b: chunk(1), c: chunk(2) });
      const chained = of(1).pipe(mergeMap(() => src.pipe(repairChunks({ nack: () => undefined }))));
      expectObservable(chained, '^--!').toBe('-a-', { a: chunk(0) });
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });

  it('stops a synchronous source when unsubscribed', () => {
    let emitted = 0;
    const infinite = new Observable<Chunk>((s) => {
      for (let i = 0; !s.closed; i++) {
        emitted++;
        s.next(chunk(i));
      }
    });
    const got: number[] = [];
    infinite.pipe(repairChunks({ nack: () => undefined }), take(3)).subscribe((c) => got.push(c.index));
    expect(got).toEqual([0, 1, 2]);
    expect(emitted).toBe(3);
  });

  it('without detectGaps, stallNackDelayMs NACKs a chunk missing behind later ones (a stalled channel), and again as often, until it comes', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable, flush }) => {
      const nacks: Array<[number, number[]]> = [];
      // Chunk 1 waits on a stalled channel while 0, 2 and 3 arrive; it comes at t = 12 s.
      const src = hot('-a-c-d 11995ms b|', { a: chunk(0), b: chunk(1), c: chunk(2), d: chunk(3) });
      const out = src.pipe(repairChunks({ nack: (n) => nacks.push([ts.now(), n]), stallNackDelayMs: 1000 }));
      expectObservable(out).toBe('-a-c-d 11995ms b|', { a: chunk(0), b: chunk(1), c: chunk(2), d: chunk(3) });
      flush();
      // Scans every 500 ms from the arm at t=3: first seen missing at t=503, NACKed at 1503, then every 1000 ms.
      expect(nacks.map(([t]) => t)).toEqual([1503, 2503, 3503, 4503, 5503, 6503, 7503, 8503, 9503, 10503, 11503]);
      expect(nacks.every(([, n]) => n.length === 1 && n[0] === 1)).toBe(true);
    });
  });

  it('stallNackDelayMs leaves the tail alone (nothing arrived after it) and gives way to the end rule once the end is known', () => {
    const ts = testScheduler();
    ts.run(({ hot, cold, flush }) => {
      const nacks: Array<[number, number[]]> = [];
      // Chunks 0 and 1 come; 2 and 3 never do. No later chunk arrived, so no stall NACK; the end (t = 3000)
      // makes them missing (first seen at the scan 250 ms later), and 500 ms after that they are NACKed, not
      // after the 5 s stall delay.
      const end = cold('3000ms e', { e: 4 });
      hot('-a-b 5000ms |', { a: chunk(0), b: chunk(1) })
        .pipe(repairChunks({ nack: (n) => nacks.push([ts.now(), n]), stallNackDelayMs: 5000, end }))
        .subscribe();
      flush();
      expect(nacks[0]).toEqual([3750, [2, 3]]);
    });
  });

  it('validates its config', () => {
    expect(() => repairChunks({} as any)).toThrow(InvalidConfigError);
    expect(() => repairChunks({ nack: () => undefined, nackDelayMs: 0 })).toThrow(InvalidConfigError);
    expect(() => repairChunks({ nack: () => undefined, stallNackDelayMs: 0 })).toThrow(InvalidConfigError);
    expect(() => repairChunks({ nack: () => undefined, stallNackDelayMs: NaN })).toThrow(InvalidConfigError);
  });
});

describe('repairChunks without detectGaps, once the end is known', () => {
  it('NACKs a chunk that never came, after endNackDelayMs', () => {
    const ts = testScheduler();
    ts.run(({ hot, cold, flush }) => {
      const nacks: Array<[number, number[]]> = [];
      const end = cold('-e', { e: 3 });
      hot('-a-c 3000ms |', { a: chunk(0), c: chunk(2) })
        .pipe(repairChunks({ nack: (n) => nacks.push([ts.now(), n]), end, endNackDelayMs: 1000 }))
        .subscribe();
      flush();
      // Seen missing at the first scan (t=501), NACKed 1000 ms later, then every 1000 ms.
      expect(nacks).toEqual([
        [1501, [1]],
        [2501, [1]],
      ]);
    });
  });
});

describe('repairChunks without detectGaps: a busy link is not a gap', () => {
  it('waits until no chunk has arrived for endNackDelayMs before NACKing', () => {
    const ts = testScheduler();
    ts.run(({ hot, cold, flush }) => {
      const nacks: Array<[number, number[]]> = [];
      const end = cold('-e', { e: 30 });
      // Chunks 0..28 keep arriving every 100 ms (chunk 29 never comes): no NACK while they flow.
      const frames = Object.fromEntries(Array.from({ length: 29 }, (_, i) => [String.fromCharCode(65 + i), chunk(i)]));
      const marble = Object.keys(frames).map((k) => `${k} 99ms `).join('') + '5000ms |';
      hot(marble, frames)
        .pipe(repairChunks({ nack: (n) => nacks.push([ts.now(), n]), end, endNackDelayMs: 1000 }))
        .subscribe();
      flush();
      // The last chunk arrives at 2800; the first NACK waits for 1000 ms of quiet.
      expect(nacks.length).toBeGreaterThan(0);
      expect(nacks[0][0]).toBeGreaterThanOrEqual(3800);
      expect(nacks[0][1]).toEqual([29]);
    });
  });
});

describe('repairChunks timers', () => {
  it('unsubscribes each gap timer once it has fired: a gap that never fills holds no more over 60 s than over 1 s', () => {
    const ts = testScheduler();
    ts.run(({ hot }) => {
      const counting = countingScheduler(ts);
      // Chunk 1 never comes: the gap timer fires every 50 ms for the whole run.
      const sub = hot('-a-c', { a: chunk(0), c: chunk(2) })
        .pipe(repairChunks({ nack: () => undefined, detectGaps: true, nackDelayMs: 100, scheduler: counting.scheduler }))
        .subscribe();
      // What the operator attached to its subscriber (RxJS internals, read for this check only).
      const finalizers = () => (sub as unknown as { _finalizers: unknown[] | null })._finalizers?.length ?? 0;
      const at: Record<number, [number, number]> = {};
      for (const t of [1_000, 10_000, 60_000]) {
        ts.schedule(() => (at[t] = [counting.live(), finalizers()]), t);
      }
      ts.schedule(() => sub.unsubscribe(), 60_000);
      ts.flush();
      expect(at[1_000][0]).toBeLessThanOrEqual(1);
      expect({ at10s: at[10_000], at60s: at[60_000] }).toEqual({ at10s: at[1_000], at60s: at[1_000] });
      expect(counting.live()).toBe(0);
    });
  });
});

describe('repairChunks: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => repairChunks(null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'repairChunks: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
