import { lastValueFrom, mergeMap, Observable, of, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { discardTarget } from '../../../bench/lib/discardTarget';
import type { Manifest } from '../../../src/protocol/control';
import type { OpenedTarget } from '../../../src/transfer/ReceiveTarget';
import { receiveFile } from '../../../src/transfer/receiveFile';
import { sendFile } from '../../../src/transfer/sendFile';
import { createVirtualLink, type VirtualLink } from '../../../src/testing';
import type { Chunk } from '../../../src/types';
import { completedOf } from '../../helpers/events';
import { pattern, testScheduler } from '../../helpers/marbles';
import { sha256Hex } from '../../helpers/sha256';

const manifest: Manifest = {
  id: 1,
  session: 1,
  index: 0,
  parallel: 1,
  name: 'x.bin',
  size: 9,
  type: 'application/octet-stream',
  channels: 1,
  lanes: 1,
  idBase: 512,
  window: 16 * 1024 * 1024,
  reliability: 'reliable',
  chunk: { min: 1, max: 4 },
  digest: 'sha-256',
};
const a: Chunk = { index: 0, offset: 0, data: pattern(3) };
const b: Chunk = { index: 1, offset: 3, data: pattern(2, 3) };
const c: Chunk = { index: 2, offset: 5, data: pattern(4, 5) };

/** Opens a fresh discard target (synchronous: `open` never returns a promise). */
const opened = () => {
  const target = discardTarget();
  return { target, open: target.open(manifest) as OpenedTarget };
};

describe('discardTarget', () => {
  it('starts fresh, without a prefix', () => {
    const { open } = opened();
    expect(open.from).toBe(0);
    expect(open.prefix).toBeUndefined();
  });

  it('emits the cumulative byte count per chunk and completes with the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Chunk>('-a-b-c-|', { a, b, c });
      expectObservable(source.pipe(opened().open.sink)).toBe('-x-y-z-|', { x: 3, y: 5, z: 9 });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('tallies bytes and chunks across transfers, and finish() returns the transfer’s bytes', async () => {
    const target = discardTarget();
    const first = target.open(manifest) as OpenedTarget;
    await lastValueFrom(of(a, b).pipe(first.sink));
    expect(first.finish()).toBe(5);
    const second = target.open(manifest) as OpenedTarget;
    await lastValueFrom(of(c).pipe(second.sink));
    second.abort(new Error('test'));
    expect(target.tally).toEqual({ bytes: 9, chunks: 3, opened: 2, finished: 1, aborted: 1 });
  });

  it('completes without emitting for an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Chunk>('|').pipe(opened().open.sink)).toBe('|');
    });
  });

  it('never completes for a source that never does', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Chunk>('-a-', { a });
      expectObservable(source.pipe(opened().open.sink)).toBe('-x-', { x: 3 });
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('passes an error through', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Chunk>('-a-#', { a }, new Error('boom'));
      expectObservable(source.pipe(opened().open.sink)).toBe('-x-#', { x: 3 }, new Error('boom'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<Chunk>('-a-b-c-|', { a, b, c });
      expectObservable(source.pipe(opened().open.sink), '^--!').toBe('-x-', { x: 3 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('does not break unsubscription chains', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<Chunk>('-a-b-c-|', { a, b, c });
      const result = source.pipe(
        mergeMap((x) => of(x)),
        opened().open.sink,
        mergeMap((x) => of(x)),
      );
      expectObservable(result, '^--!').toBe('-x-', { x: 3 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('stops a synchronous source when unsubscribed', () => {
    let produced = 0;
    const endless = new Observable<Chunk>((subscriber) => {
      for (let i = 0; !subscriber.closed; i++) {
        produced++;
        subscriber.next({ index: i, offset: i, data: pattern(1) });
      }
    });
    const { target, open } = opened();
    let counts: number[] = [];
    endless.pipe(open.sink, take(3)).subscribe((n) => (counts = [...counts, n]));
    expect(counts).toEqual([1, 2, 3]);
    expect(produced).toBe(3);
    expect(target.tally.chunks).toBe(3);
  });

  describe('as receiveFile’s target', () => {
    let link: VirtualLink | undefined;
    afterEach(() => link?.close());

    it('counts every byte of a real transfer, which completes with the right digest', async () => {
      link = createVirtualLink({ bandwidth: 50e6, delayMs: 1 });
      const bytes = pattern(1024 * 1024 + 7);
      const target = discardTarget();
      const [sent, received] = await Promise.all([
        lastValueFrom(sendFile(link.a, bytes, { profile: 'lan', channels: 2, lanes: 1 }).pipe(toArray())),
        lastValueFrom(receiveFile(link.b, { target }).pipe(toArray())),
      ]);
      const sha = sha256Hex(bytes);
      expect([completedOf(sent)?.sha256, completedOf(received)?.sha256]).toEqual([sha, sha]);
      expect(completedOf(received)?.result).toBe(bytes.length);
      expect(target.tally).toMatchObject({ bytes: bytes.length, opened: 1, finished: 1, aborted: 0 });
    });
  });
});
