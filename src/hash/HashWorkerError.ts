import { TallowError, type ErrorDetails } from '../errors';

/**
 * The browser's hash worker failed after it had started (it crashed, or answered a request with an
 * error), so a digest cannot be given. A worker that never starts is no error: hashing then runs on the
 * page's own thread.
 */
export class HashWorkerError extends TallowError {
  override readonly name = 'HashWorkerError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('ERR_HASH_WORKER', message, details);
  }
}
