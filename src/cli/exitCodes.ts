/**
 * The command line's exit codes.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | every file verified (SHA-256 equal on both ends) |
 * | 1 | failed: connection, transfer, server refused, a file could not be read or written |
 * | 2 | usage error: unknown command or flag, missing argument, bad value |
 * | 3 | the peer declined the offer |
 * | 130 | interrupted (Ctrl-C, SIGINT or SIGTERM): the transfer was cancelled on both sides |
 */
export const EXIT_VERIFIED = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_DECLINED = 3;
export const EXIT_INTERRUPTED = 130;

/** A usage error: printed with the help hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
