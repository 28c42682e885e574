/**
 * The read loop of `pullSource`: the open reader, the read in flight and the wait for credit. `pullSource`
 * validates its options and opens the reader on subscribe, then calls {@link pullRun} with it, so every
 * subscriber gets fresh state (closure locals).
 */
import type { Subscriber } from 'rxjs';
import { SourceReadError, TallowError } from '../errors';
import type { Demand } from '../flow/Demand';
import type { Bytes } from '../types';
import type { ByteReader } from './pullSource';

/** What a reader's failure errors the output with: a `TallowError` as is, anything else as a `SourceReadError`. */
export const readError = (err: unknown) => (err instanceof TallowError ? err : new SourceReadError(String((err as any)?.message ?? err), {}, err));

/** One subscription of `pullSource` once its reader is open: its state in closure locals, and its steps. */
export function pullRun(subscriber: Subscriber<Bytes>, opened: ByteReader, readSize: number, demand: Demand | undefined) {
  // The open reader, until closed.
  let reader: ByteReader | undefined = opened;
  // True while a read is in flight (asynchronous readers).
  let reading = false;
  // True once torn down or finished, so late callbacks do nothing.
  let done = false;
  // Cancels a pending wait for credit.
  let cancelWait: (() => void) | undefined;
  /** Lets the reader go and closes it (in a microtask), once. */
  const close = () => {
    const r = reader;
    reader = undefined;
    if (r?.close) Promise.resolve().then(() => r.close!()).catch(() => undefined);
  };
  const fail = (err: unknown) => {
    if (done) return;
    done = true;
    close();
    subscriber.error(readError(err));
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
  /** Reads while there is credit, a reader and no read in flight; waits for credit when there is none. */
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
  return {
    pump,
    teardown: () => {
      done = true;
      cancelWait?.();
      close();
    },
  };
}
