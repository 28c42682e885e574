/**
 * A `ReceiveTarget` that throws the bytes away, so a benchmark of
 * `receiveFile` measures the library and the network, not a disk or a Blob.
 */
import { Observable } from 'rxjs';
import { subscribeChained } from '../../src/operators/subscribeChained';
import type { ReceiveTarget } from '../../src/transfer/ReceiveTarget';

/** What a {@link discardTarget} saw, readable after (or during) the transfer. */
export interface DiscardTally {
  /** Payload bytes the sink received, over every transfer opened on the target. */
  bytes: number;
  /** Chunks the sink received. */
  chunks: number;
  /** Transfers opened, finished and aborted. */
  opened: number;
  finished: number;
  aborted: number;
}

/**
 * A receive target whose sink counts verified chunks and drops them; `finish()`
 * returns the byte count of that transfer.
 *
 * ```
 * chunks: --a(3 B)--b(2 B)--c(4 B)--|
 * sink:   --3-------5-------9-------|
 * ```
 *
 * ## Example
 * ```ts
 * import { receiveFile } from 'tallow-rx';
 * import { discardTarget } from './lib/discardTarget';
 * const target = discardTarget();
 * receiveFile(pc, { target }).subscribe({ complete: () => console.log(target.tally.bytes) });
 * ```
 * @return the target and its running {@link DiscardTally}
 */
export function discardTarget(): ReceiveTarget & { readonly tally: DiscardTally } {
  const tally: DiscardTally = { bytes: 0, chunks: 0, opened: 0, finished: 0, aborted: 0 };
  return {
    tally,
    open: () => {
      tally.opened++;
      // Bytes of this transfer, reported by `finish()`.
      let transferBytes = 0;
      return {
        from: 0,
        sink: (source) =>
          new Observable<number>((subscriber) => {
            // Cumulative bytes of this subscription (what `receiveFile` acks).
            let bytes = 0;
            // Chained, so a synchronous source stops as soon as downstream unsubscribes.
            subscribeChained(source, subscriber, {
              next: (chunk) => {
                bytes += chunk.data.length;
                transferBytes += chunk.data.length;
                tally.bytes += chunk.data.length;
                tally.chunks++;
                subscriber.next(bytes);
              },
              error: (err) => subscriber.error(err),
              complete: () => subscriber.complete(),
            });
          }),
        finish: () => {
          tally.finished++;
          return transferBytes;
        },
        abort: () => {
          tally.aborted++;
        },
      };
    },
  };
}
