/**
 * The engine under every byte source: reads a piece only when there is credit.
 */
import { Observable } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Demand } from '../flow/Demand';
import type { Bytes } from '../types';
import { pullRun, readError } from './pullSourceInternals';
import { configObject } from '../configObject';

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
  config = configObject('pullSource', config);
  const readSize = config.readSize ?? DEFAULT_READ_SIZE;
  if (!Number.isInteger(readSize) || readSize < 1) {
    throw new InvalidConfigError(`readSize must be a positive integer, got ${readSize}`, { readSize });
  }
  const demand = config.demand;
  return new Observable<Bytes>((subscriber) => {
    // The read loop, once the reader is open.
    let run: ReturnType<typeof pullRun> | undefined;
    // True once the subscription ended before the reader opened (torn down, or the open failed).
    let ended = false;
    const fail = (err: unknown) => {
      if (ended) return;
      ended = true;
      subscriber.error(readError(err));
    };
    const start = (reader: ByteReader) => {
      if (ended) {
        // Unsubscribed while opening.
        Promise.resolve(reader.close?.()).catch(() => undefined);
        return;
      }
      run = pullRun(subscriber, reader, readSize, demand);
      run.pump();
    };

    let opened: ByteReader | Promise<ByteReader>;
    try {
      opened = open();
    } catch (err) {
      fail(err);
      return;
    }
    if (opened instanceof Promise) opened.then(start, fail);
    else start(opened);

    return () => {
      ended = true;
      run?.teardown();
    };
  });
}
