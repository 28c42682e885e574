/**
 * The page's one hash worker, started on first use from the bundled script in a Blob URL.
 *
 * Resolves `undefined` where no worker can run: no `Worker` (Node, some embedded runtimes), or a
 * Content-Security-Policy whose `worker-src` (else `script-src`) does not allow `blob:`. Hashing then
 * runs on the main thread, as before.
 */
import { startHashWorker, type HashWorkerClient } from './hashWorkerClient';

// The started worker (or its absence), once asked for.
let shared: Promise<HashWorkerClient | undefined> | undefined;

/** True where a Blob-URL worker can at least be tried. */
const canTry = (): boolean => typeof Worker === 'function' && typeof Blob === 'function' && typeof URL?.createObjectURL === 'function';

/** Starts the worker from its bundled source; the Blob URL goes once the worker started or failed. */
async function start(): Promise<HashWorkerClient | undefined> {
  const { hashWorkerSource } = await import('./hashWorkerSource');
  const url = URL.createObjectURL(new Blob([hashWorkerSource], { type: 'text/javascript' }));
  try {
    return await startHashWorker(() => new Worker(url, { name: 'tallow-rx hash' }));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The page's hash worker, or `undefined` where hashing stays on the main thread. */
export const pageHashWorker = (): Promise<HashWorkerClient | undefined> => (shared ??= canTry() ? start().catch(() => undefined) : Promise.resolve(undefined));
