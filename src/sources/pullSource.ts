/**
 * The engine under every byte source: reads a piece only when there is credit.
 */
import { Observable } from 'rxjs';
import { InvalidConfigError, SourceReadError, TallowError } from '../errors';
import type { Demand } from '../flow/Demand';
import type { Bytes } from '../types';

/** Something that hands out bytes on request. */
export interface ByteReader {
  /** Reads at most `max` bytes (at least 1 unless at the end). `null` means end of input. */
  read(max: number): Bytes | null | Promise<Bytes | null>;
  /** Releases the underlying resource. Called exactly once, on completion, error or unsubscribe. */
  close?(): void | Promise<void>;
}

/** Options shared by every source. */
export interface SourceConfig {
  /**
   * Credit from downstream. When given, the source reads only what it holds
   * credit for. When omitted, demand is unbounded: the source reads as fast as
   * the input allows, which suits sinks such as `toBlob()` that never block.
   */
  readonly demand?: Demand;
  /** Largest single read, in bytes. Default 256 KiB. */
  readonly readSize?: number;
}

/** Default largest read. */
export const DEFAULT_READ_SIZE = 256 * 1024;

/**
 * Turns a {@link ByteReader} factory into a lazy, pull-driven Observable.
 * The reader is opened on subscribe and closed on teardown. Synchronous
 * readers emit synchronously, so sources built on them are marble-testable.
 */
export function pullSource(open: () => ByteReader | Promise<ByteReader>, config: SourceConfig = {}): Observable<Bytes> {
  const readSize = config.readSize ?? DEFAULT_READ_SIZE;
  if (!Number.isInteger(readSize) || readSize < 1) {
    throw new InvalidConfigError(`readSize must be a positive integer, got ${readSize}`, { readSize });
  }
  const demand = config.demand;
  return new Observable<Bytes>((subscriber) => {
    // The open reader, once `open()` resolved.
    let reader: ByteReader | undefined;
    // True while a read is in flight (asynchronous readers).
    let reading = false;
    // True once torn down or finished, so late callbacks do nothing.
    let done = false;
    // Cancels a pending wait for credit.
    let cancelWait: (() => void) | undefined;

    const close = () => {
      const r = reader;
      reader = undefined;
      if (r?.close) Promise.resolve().then(() => r.close!()).catch(() => undefined);
    };
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      close();
      subscriber.error(err instanceof TallowError ? err : new SourceReadError(String((err as any)?.message ?? err), {}, err));
    };

    /** Handles one read result; returns true when the loop may continue synchronously. */
    const accept = (bytes: Bytes | null, asked: number): boolean => {
      reading = false;
      if (done || subscriber.closed) return false;
      if (bytes === null) {
        if (demand) demand.refund(asked);
        done = true;
        close();
        subscriber.complete();
        return false;
      }
      if (demand && bytes.length < asked) demand.refund(asked - bytes.length);
      if (bytes.length > asked) return (fail(new SourceReadError(`reader returned ${bytes.length} B for a ${asked} B read`)), false);
      if (bytes.length) subscriber.next(bytes);
      return !done && !subscriber.closed;
    };

    const pump = () => {
      cancelWait = undefined;
      while (!done && !subscriber.closed && !reading && reader) {
        const asked = demand ? demand.take(readSize) : readSize;
        if (asked === 0) {
          cancelWait = demand!.whenAvailable(pump);
          return;
        }
        reading = true;
        let result: Bytes | null | Promise<Bytes | null>;
        try {
          result = reader.read(asked);
        } catch (err) {
          reading = false;
          if (demand) demand.refund(asked);
          return fail(err);
        }
        if (result instanceof Promise) {
          result.then(
            (bytes) => {
              if (accept(bytes, asked)) pump();
            },
            (err) => {
              reading = false;
              if (demand && !done) demand.refund(asked);
              fail(err);
            },
          );
          return;
        }
        if (!accept(result, asked)) return;
      }
    };

    let opened: ByteReader | Promise<ByteReader>;
    try {
      opened = open();
    } catch (err) {
      fail(err);
      return;
    }
    if (opened instanceof Promise) {
      opened.then(
        (r) => {
          if (done) {
            Promise.resolve(r.close?.()).catch(() => undefined);
            return;
          }
          reader = r;
          pump();
        },
        fail,
      );
    } else {
      reader = opened;
      pump();
    }

    return () => {
      done = true;
      cancelWait?.();
      close();
    };
  });
}
