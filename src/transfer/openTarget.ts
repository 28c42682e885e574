/**
 * Opens a target for one file as an Observable, checking the `from` it reports. A target that finishes
 * opening after the receiver gave up is aborted, never leaked: unsubscribing stops the delivery, not the
 * open.
 */
import { Observable } from 'rxjs';
import { InvalidConfigError, TransferCancelledError } from '../errors';
import type { Manifest } from '../protocol/control';
import type { OpenedTarget, OpenHints, ReceiveTarget } from './ReceiveTarget';
import { abortTarget, checkOpened, settleCall } from './targetCalls';

/**
 * @param target where the file goes
 * @param manifest the file
 * @param hints `{ resume: false }` when the sender was promised the file from 0 (then `from` must be 0)
 * @return the opened target, once; errors with `InvalidConfigError` for a `from` outside the file
 */
export function openTarget(target: ReceiveTarget, manifest: Manifest, hints: OpenHints): Observable<OpenedTarget> {
  return new Observable<OpenedTarget>((subscriber) => {
    // Whether the subscriber still wants the target.
    let live = true;
    settleCall(() => target.open(manifest, hints)).subscribe({
      next: (given) => {
        let t: OpenedTarget;
        try {
          t = checkOpened(given, manifest);
        } catch (err) {
          return live && subscriber.error(err);
        }
        if (!live) return void abortTarget(t, new TransferCancelledError('local'));
        const { from } = t;
        if (!(Number.isSafeInteger(from) && from >= 0 && from <= manifest.size)) {
          abortTarget(t, new TransferCancelledError('local'));
          return subscriber.error(new InvalidConfigError(`target resumes ${manifest.name} at ${from}, outside the file`, { from, size: manifest.size }));
        }
        if (hints.resume === false && from !== 0) {
          abortTarget(t, new TransferCancelledError('local'));
          return subscriber.error(new InvalidConfigError(`target resumes ${manifest.name} at ${from} although asked to start from 0`, { from }));
        }
        subscriber.next(t);
        subscriber.complete();
      },
      error: (err) => live && subscriber.error(err),
    });
    return () => {
      live = false;
    };
  });
}
