/**
 * File-system errors of `directoryTarget` as TallowErrors that name paths relative to the target
 * directory (their messages go to the peer).
 */
import { SinkWriteError, TallowError } from '../errors';

/** The fs error under `err` (fromFilePath wraps it in a SourceReadError). */
export const fsCause = (err: unknown): unknown => (err instanceof TallowError && err.cause !== undefined ? fsCause(err.cause) : err);

/** The fs error code (`ENOENT`, …) under `err`, if any. */
export const codeOf = (err: unknown): string | undefined => (fsCause(err) as NodeJS.ErrnoException | undefined)?.code;

/**
 * A failed fs call as a SinkWriteError. `path` is relative to the target directory: messages go to
 * the peer, and Node's own messages (kept as `cause`) hold absolute paths. TallowErrors pass unchanged.
 */
export const writeError = (doing: string, path: string, err: unknown): TallowError =>
  err instanceof TallowError
    ? err
    : new SinkWriteError(`${doing} ${path} failed (${codeOf(err) ?? 'unknown error'})`, { path, causeCode: codeOf(err) }, fsCause(err));

/** The part file was swapped, or its size changed, by someone else while the transfer wrote it. */
export const replaced = (part: string, how: string, outcome = 'nothing was placed'): SinkWriteError =>
  new SinkWriteError(`${part} was changed by something else while it was written (${how}); ${outcome}`, { path: part, causeCode: 'EREPLACED' });
