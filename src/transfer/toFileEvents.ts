/**
 * `sendFile`/`receiveFile` are a session of one file: this maps its session
 * events to the one-file {@link TransferEvent}s (`file-started` → `started`,
 * `file-completed` → `completed`, session progress without file counts; a session that started with its
 * file skipped → `skipped`).
 */
import { defer, mergeMap, of, EMPTY, type Observable, type OperatorFunction } from 'rxjs';
import type { SessionEvent } from './SessionEvent';
import type { TransferEvent } from './TransferEvent';

export function toFileEvents(): OperatorFunction<SessionEvent, TransferEvent> {
  return (source) => defer(() => {
    // The file's `completed` goes out when the session completes, so it stays the last event (after the
    // final progress and stats), as a one-file transfer has always ended.
    let held: TransferEvent | undefined;
    // The session started with the file not taken (the receiver sent `skip`): `skipped` instead of `completed`.
    return source.pipe(mergeMap((e): Observable<TransferEvent> => {
    switch (e.type) {
      case 'started':
        if (!e.files.length && e.offer.files.length) held = { type: 'skipped', manifest: e.offer.files[0] };
        return EMPTY; // the file's own start follows (file-started)
      case 'offer':
        return e.offer.files.length ? of({ type: 'offer', manifest: e.offer.files[0] }) : EMPTY;
      case 'file-started':
        return of({ type: 'started', manifest: e.manifest, from: e.from });
      case 'progress': {
        const { files: _files, type, ...p } = e;
        return of({ type, ...p });
      }
      case 'stats':
      case 'interrupted':
      case 'resumed':
      case 'lane-lost':
        return of(e);
      case 'rejected':
        return e.offer.files.length ? of({ type: 'rejected', manifest: e.offer.files[0], reason: e.reason }) : EMPTY;
      case 'file-completed': {
        const { type: _t, ...rest } = e;
        held = { type: 'completed', ...rest };
        return EMPTY;
      }
      case 'completed':
        return held ? of(held) : EMPTY;
      default:
        return EMPTY; // file-progress (the same as progress)
    }
  }));
  });
}
