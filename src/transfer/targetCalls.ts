/**
 * Calls into a receive target the app passed, made safe: a callback that throws synchronously becomes the
 * Observable's error (or is ignored, for `abort`) instead of an exception thrown through RxJS, which took the
 * whole process down (`finish`, `sink`) or left the session waiting for good (`abort`).
 */
import { throwError, type Observable } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Manifest } from '../protocol/control';
import type { OpenedTarget } from './ReceiveTarget';
import { settle } from './settle';
import { plain, shown } from '../configObject';

/** `settle(call())`, a synchronous throw as the error; synchronous results stay synchronous (TestScheduler). */
export function settleCall<T>(call: () => T | PromiseLike<T>): Observable<T> {
  try {
    return settle(call());
  } catch (err) {
    return throwError(() => err);
  }
}

/** A target's `abort(reason)`: a throw or a rejection is ignored (the file is given up either way). */
export function abortTarget(t: OpenedTarget, reason: unknown): Promise<void> | undefined {
  let r: unknown;
  try {
    r = t.abort(reason);
  } catch {
    return undefined;
  }
  return typeof (r as PromiseLike<unknown> | undefined)?.then === 'function' ? Promise.resolve(r).then(() => undefined, () => undefined) : undefined;
}

/** What `target.open` gave, when it has the shape of an {@link OpenedTarget}; else `InvalidConfigError`. */
export function checkOpened(t: unknown, manifest: Manifest): OpenedTarget {
  const o = t as Partial<OpenedTarget> | null;
  if (typeof o === 'object' && o !== null && typeof o.sink === 'function' && typeof o.finish === 'function' && typeof o.abort === 'function') return o as OpenedTarget;
  throw new InvalidConfigError(`target.open(${manifest.name}) must give an OpenedTarget ({ from, sink, finish, abort }), got ${shown(t)}`, { field: 'target', value: plain(t) });
}
