/**
 * Receives one file: the one-file case of {@link receiveFiles}, with the one-file events
 * ({@link TransferEvent}). An offer of more than one file is rejected.
 */
import { defer, isObservable, map, Observable } from 'rxjs';
import { InvalidConfigError } from '../errors';
import type { Manifest } from '../protocol/control';
import type { PeerConnectionLike } from '../types';
import { checkReceiveOptions, runReceiveFiles, type ReceiveFilesOptions } from './receiveFiles';
import type { ReceiveTarget } from './ReceiveTarget';
import type { ReceiverSessionConfig } from './ReceiverSession';
import { settle } from './settle';
import { toFileEvents } from './toFileEvents';
import { withViews, type TransferObservable } from './TransferObservable';

/** Options for {@link receiveFile}: those of {@link ReceiveFilesOptions}, with a one-file `accept`. */
export interface ReceiveOptions extends Omit<ReceiveFilesOptions, 'accept'> {
  /**
   * Decides whether to take the offered file. Default: accept everything within the limits. An Observable's
   * first value decides (handy in virtual time, e.g. `timer(3000, scheduler).pipe(map(() => true))`).
   */
  readonly accept?: (manifest: Manifest) => boolean | Promise<boolean> | Observable<boolean>;
}

/**
 * Receives the next file the peer offers with {@link sendFile}. Shared while it runs: subscriptions at the same
 * time (and the `stats$` and `progress$` views) see one transfer, which starts with the first and is cancelled on
 * both sides when the last unsubscribes; a subscription after it ended starts a new one. To run two at once,
 * call the function twice.
 *
 * ```
 * events: --offer--started--progress--stats--…--completed|
 * ```
 *
 * ## Example
 * ```ts
 * import { receiveFile } from 'tallow-rx';
 * receiveFile(pc).subscribe((e) => e.type === 'completed' && download(e.result!)); // a Blob: blobTarget() by default
 * ```
 * `result` is typed by the target: `Blob` by default, `string` (the path) with `directoryTarget`, `R` with a
 * `ReceiveTarget<R>` of your own.
 * @param connection one RTCPeerConnection, or several (lanes), in the same order as the sender's
 * @param options see {@link ReceiveOptions}
 * @return an Observable of {@link TransferEvent}, with `stats$` and `progress$` views of the same transfer
 */
export function receiveFile<R = Blob>(connection: PeerConnectionLike | readonly PeerConnectionLike[], options: ReceiveOptions & { readonly target?: ReceiveTarget<R> } = {}): TransferObservable<R> {
  return <TransferObservable<R>>withViews(defer(() => runReceiveFiles(connection, oneFile(checkReceiveOptions('receiveFile', options)), 'receiveFile')).pipe(toFileEvents()));
}

/** `receiveFiles`' config for one file: an offer of more is refused, and `accept` sees the one file. */
function oneFile({ accept, ...rest }: ReceiveOptions): ReceiverSessionConfig {
  return {
    ...rest,
    refuse: (offer) => (offer.files.length === 1 ? undefined : new InvalidConfigError('receiveFile takes one file; use receiveFiles', { files: offer.files.length })),
    accept: accept
      ? (offer) => {
          const yes = accept(offer.files[0]);
          return (isObservable(yes) ? yes : settle(yes)).pipe(map(Boolean));
        }
      : undefined,
  };
}
