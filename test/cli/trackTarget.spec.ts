/**
 * trackTarget: the command line waits for a cancelled transfer's target to tidy its files before it exits.
 * `settled` resolves once every abort (and an open in flight, and the abort that open's late arrival starts)
 * is done, or at its bound.
 */
import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { trackTarget } from '../../src/cli/trackTarget';
import type { OpenedTarget, ReceiveTarget } from '../../src/transfer/ReceiveTarget';
import type { Manifest } from '../../src/protocol/control';

const manifest = { name: 'a.bin', size: 10, type: '', lastModified: 0 } as unknown as Manifest;

/** A promise and its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** An opened target whose abort finishes when `aborted` is resolved. */
function opened(log: string[], aborted: Promise<void>): OpenedTarget {
  return { from: 0, sink: () => EMPTY, finish: () => 'done', abort: () => aborted.then(() => void log.push('aborted')) };
}

describe('trackTarget', () => {
  it('settled waits for an abort in progress', async () => {
    const log: string[] = [];
    const abortDone = deferred();
    const { target, settled } = trackTarget({ open: () => opened(log, abortDone.promise) });
    const o = (await target.open(manifest)) as OpenedTarget;
    void o.abort(new Error('cancelled'));
    const waiting = settled(10_000).then(() => log.push('settled'));
    await Promise.resolve();
    abortDone.resolve();
    await waiting;
    expect(log).toEqual(['aborted', 'settled']);
  });

  it('settled waits for an open in flight and for the abort its arrival starts', async () => {
    const log: string[] = [];
    const openDone = deferred<OpenedTarget>();
    const abortDone = deferred();
    const inner: ReceiveTarget = { open: () => openDone.promise };
    const { target, settled } = trackTarget(inner);
    // What openTarget does when the transfer is cut while its open is in flight: abort on arrival.
    void (target.open(manifest) as Promise<OpenedTarget>).then((o) => o.abort(new Error('late')));
    const waiting = settled(10_000).then(() => log.push('settled'));
    openDone.resolve(opened(log, abortDone.promise));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual([]);
    abortDone.resolve();
    await waiting;
    expect(log).toEqual(['aborted', 'settled']);
  });

  it('settled gives up at its bound when an abort never ends, and a failed abort does not reject it', async () => {
    const never = new Promise<void>(() => undefined);
    const { target, settled } = trackTarget({ open: () => ({ ...opened([], never), abort: () => never }) });
    void ((await target.open(manifest)) as OpenedTarget).abort('x');
    await expect(settled(20)).resolves.toBeUndefined();
    const failing = trackTarget({ open: () => ({ ...opened([], never), abort: () => Promise.reject(new Error('disk gone')) }) });
    void Promise.resolve(((await failing.target.open(manifest)) as OpenedTarget).abort('x')).catch(() => undefined);
    await expect(failing.settled(10_000)).resolves.toBeUndefined();
  });

  it('passes held and folder through, and leaves them out when the target has none', async () => {
    const { target } = trackTarget({ open: () => opened([], Promise.resolve()), held: () => 7, folder: () => undefined });
    expect(await target.held!(manifest)).toBe(7);
    expect(typeof target.folder).toBe('function');
    expect(trackTarget({ open: () => opened([], Promise.resolve()) }).target.held).toBeUndefined();
  });
});
