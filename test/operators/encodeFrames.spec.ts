import { map, mergeMap, Observable, of, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FrameDecodeError, InvalidConfigError } from '../../src/errors';
import { crc32 } from '../../src/hash/crc32';
import { decodeFrames } from '../../src/operators/decodeFrames';
import { encodeFrames } from '../../src/operators/encodeFrames';
import { decodeFrame, FRAME_HEADER_SIZE } from '../../src/protocol/frame';
import type { Chunk } from '../../src/types';
import { pattern, testScheduler } from '../helpers/marbles';

const c0: Chunk = { index: 0, offset: 0, data: pattern(100, 1) };
const c1: Chunk = { index: 1, offset: 100, data: pattern(50, 2) };
/** A frame as `transferId/index@offset+length#crc`. */
const show = (f: Uint8Array) => {
  const d = decodeFrame(f);
  return `${d.transferId}/${d.index}@${d.offset}+${d.data.length}#${d.checksum}`;
};

describe('encodeFrames', () => {
  it('encodes each chunk with its index, offset and CRC-32', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--|', { a: c0, b: c1 });
      expectObservable(source.pipe(encodeFrames({ transferId: 7 }), map(show))).toBe('-a--b--|', {
        a: `7/0@0+100#${crc32(c0.data)}`,
        b: `7/1@100+50#${crc32(c1.data)}`,
      });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('writes a known checksum as is (no recomputation)', () => {
    const frames: Uint8Array[] = [];
    of({ ...c0, checksum: 0xdeadbeef }).pipe(encodeFrames({ transferId: 1 })).subscribe((f) => frames.push(f));
    expect(frames).toHaveLength(1);
    expect(frames[0].length).toBe(FRAME_HEADER_SIZE + 100);
    expect(decodeFrame(frames[0]).checksum).toBe(0xdeadbeef);
  });

  it('round-trips through decodeFrames', () => {
    const out: Chunk[] = [];
    of(c0, c1)
      .pipe(encodeFrames({ transferId: 3 }), decodeFrames({ transferId: 3 }))
      .subscribe((c) => out.push(c));
    expect(out.map((c) => [c.index, c.offset, Array.from(c.data)])).toEqual([c0, c1].map((c) => [c.index, c.offset, Array.from(c.data)]));
  });

  it('empty', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('|').pipe(encodeFrames({ transferId: 1 }))).toBe('|');
    });
  });

  it('never', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('-').pipe(encodeFrames({ transferId: 1 }))).toBe('-');
    });
  });

  it('error: forwards a source error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a: c0 }).pipe(encodeFrames({ transferId: 1 }), map(show))).toBe('-a-#', { a: `1/0@0+100#${crc32(c0.data)}` });
    });
  });

  it('error: a chunk that cannot be encoded errors with FrameDecodeError and unsubscribes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const bad: Chunk = { index: -1, offset: 0, data: pattern(1) };
      const source = cold('-a-b-a-|', { a: c0, b: bad });
      expectObservable(source.pipe(encodeFrames({ transferId: 1 }), map(show))).toBe(
        '-a-#',
        { a: `1/0@0+100#${crc32(c0.data)}` },
        new FrameDecodeError('ERR_FRAME_INPUT', 'index must be an unsigned 32-bit integer, got -1', { index: -1 }),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('rejects a bad transferId at call time', () => {
    expect(() => encodeFrames({ transferId: -1 })).toThrow(InvalidConfigError);
    expect(() => encodeFrames({ transferId: 2 ** 32 })).toThrow(InvalidConfigError);
    expect(() => encodeFrames({} as never)).toThrow(InvalidConfigError);
  });

  it('early unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--|', { a: c0, b: c1 });
      expectObservable(source.pipe(encodeFrames({ transferId: 1 }), map(show)), '--!').toBe('-a', { a: `1/0@0+100#${crc32(c0.data)}` });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b--|', { a: c0, b: c1 });
      const result = source.pipe(
        mergeMap((x) => of(x)),
        encodeFrames({ transferId: 1 }),
        mergeMap((x) => of(x)),
        map(show),
      );
      expectObservable(result, '---!').toBe('-a', { a: `1/0@0+100#${crc32(c0.data)}` });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('stops a synchronous infinite source when unsubscribed', () => {
    let produced = 0;
    const infinite = new Observable<Chunk>((s) => {
      while (!s.closed && produced < 1e6) s.next({ index: produced, offset: produced++, data: pattern(1) });
    });
    const got: Uint8Array[] = [];
    infinite.pipe(encodeFrames({ transferId: 1 }), take(3)).subscribe((f) => got.push(f));
    expect(got).toHaveLength(3);
    expect(produced).toBe(3);
  });
});
