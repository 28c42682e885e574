/**
 * Receives one file over one or more peer connections: waits for an offer,
 * accepts it (or not), then runs the receive pipeline
 * `messages → decodeFrames → repairChunks → reorder → verifyHash → target`.
 */
import { defer, Observable, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../errors';
import { type Sha256Factory } from '../hash/sha256';
import { type Manifest } from '../protocol/control';
import type { PeerConnectionLike } from '../types';
import { ReceiverSession } from './ReceiverSession';
import { lanesOf } from './transferChannels';
import { type ReceiveTarget } from './ReceiveTarget';
import type { TransferEvent } from './TransferEvent';
import { withViews, type TransferObservable } from './TransferObservable';

/** Limits a receiver enforces on what a peer may make it do. */
export interface ReceiveLimits {
  /** Largest file accepted, bytes. Default `Number.MAX_SAFE_INTEGER`. */
  readonly maxFileSize?: number;
  /** Most out-of-order chunks held while waiting for a gap to fill (the memory bound). Default 1024. */
  readonly maxBufferedChunks?: number;
  /** Most out-of-order bytes held. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
}

/** Options for {@link receiveFile}. */
export interface ReceiveOptions extends ReceiveLimits {
  /** Where the file goes. Default `blobTarget()` (in memory). */
  readonly target?: ReceiveTarget;
  /**
   * Decides whether to take an offer. Default: accept everything within the limits. An Observable's first
   * value decides (handy in virtual time, e.g. `timer(3000, scheduler).pipe(map(() => true))`).
   */
  readonly accept?: (manifest: Manifest) => boolean | Promise<boolean> | Observable<boolean>;
  /** Fail when no new bytes are verified and persisted for this long once data flows, ms (pings and duplicate frames do not count). Default 30000. */
  readonly idleTimeout?: number;
  /** Unreliable mode: how long a gap waits before it is NACKed, ms. Default 100. */
  readonly nackDelay?: number;
  /** Re-requests of a corrupted chunk before failing. Default 3. */
  readonly maxCorruptRetries?: number;
  /** Malformed frames tolerated (dropped and re-requested) before the transfer fails with `FrameDecodeError`. Default 64. */
  readonly maxMalformedFrames?: number;
  /** Acknowledge every this many persisted bytes. Default 1 MiB, and at most a quarter of the sender's `window`. */
  readonly ackEvery?: number;
  readonly progressInterval?: number;
  readonly statsInterval?: number;
  readonly createHash?: Sha256Factory;
  readonly scheduler?: SchedulerLike;
}


/**
 * Receives the next file the peer offers with {@link sendFile}. Cold: each
 * subscription receives one file; unsubscribing cancels on both sides.
 *
 * ```
 * events: --offer--started--progress--stats--…--completed|
 * ```
 *
 * ## Example
 * ```ts
 * import { receiveFile } from 'tallow-rx';
 * receiveFile(pc).subscribe((e) => e.type === 'completed' && download(e.result as Blob));
 * ```
 * @param connection one RTCPeerConnection, or several (lanes), in the same order as the sender's
 * @param options see {@link ReceiveOptions}
 * @return a cold Observable of {@link TransferEvent}, with `stats$` and `progress$` views of the same transfer
 */
export function receiveFile(connection: PeerConnectionLike | readonly PeerConnectionLike[], options: ReceiveOptions = {}): TransferObservable {
  return withViews(
    defer(() => {
      const lanes = lanesOf(connection);
      if (!lanes.length) throw new InvalidConfigError('receiveFile needs at least one peer connection');
      return runReceiver(lanes, options);
    }),
  );
}
function runReceiver(lanes: readonly PeerConnectionLike[], options: ReceiveOptions): Observable<TransferEvent> {
  return new Observable<TransferEvent>((subscriber) => {
    const session = new ReceiverSession(lanes, options, subscriber);
    session.start();
    return () => session.cancel();
  });
}
