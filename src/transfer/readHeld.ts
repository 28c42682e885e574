/**
 * Reads the bytes a receive target already holds, for the receiver's prefix digest.
 */
import { catchError, Observable, throwError } from 'rxjs';
import { SourceReadError } from '../errors';
import { fromFilePath } from '../sources/fromFilePath';
import { limitBytes } from './fileInput';
import { codeOf, fsCause } from './writeError';

/** Reads the held bytes `[0, bytes)` of `path`; a failure is a SourceReadError naming `rel` (relative to the target). */
export const readHeld = (path: string, bytes: number, rel: string, what: string): Observable<Uint8Array> =>
  fromFilePath(path).pipe(
    limitBytes(bytes),
    catchError((err: unknown) => throwError(() => new SourceReadError(`reading ${what} failed (${codeOf(err) ?? 'unknown error'})`, { path: rel, causeCode: codeOf(err) }, fsCause(err)))),
  );
