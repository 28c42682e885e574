/**
 * A value that may be a promise, as an Observable that stays synchronous when it is not: a memory
 * target and node:crypto's hasher then run a whole transfer inside `TestScheduler.run()`, where
 * promises never settle during the flush.
 */
import { from, isObservable, of, type Observable } from 'rxjs';

const isPromiseLike = <T,>(v: unknown): v is PromiseLike<T> => typeof (v as PromiseLike<T>)?.then === 'function';

/** `of(value)`, or `from(promise)` for a promise-like. */
export const settle = <T,>(value: T | PromiseLike<T>): Observable<T> => (isPromiseLike<T>(value) ? from(value) : isObservable(value) ? (value as Observable<T>) : of(value as T));
