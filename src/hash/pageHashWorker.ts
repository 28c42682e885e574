/**
 * The page's one hash worker, started on first use from the bundled script in a Blob URL.
 *
 * Resolves `undefined` where no worker can run: no `Worker` (Node, some embedded runtimes), or a
 * Content-Security-Policy whose `worker-src` (else `script-src`) does not allow `blob:`. Hashing then
 * runs on the main thread, as before.
 */
import { startHashWorker, type HashWorkerClient } from './hashWorkerClient';
import { canStartBlobWorker, startBlobWorker } from './startBlobWorker';

// The started worker (or its absence), once asked for.
let shared: Promise<HashWorkerClient | undefined> | undefined;

/** Starts the worker from its bundled source (loaded on first use). */
async function start(): Promise<HashWorkerClient | undefined> {
  const { hashWorkerSource } = await import('./hashWorkerSource');
  return startBlobWorker(hashWorkerSource, 'tallow-rx hash', startHashWorker);
}

/** The page's hash worker, or `undefined` where hashing stays on the main thread. */
export const pageHashWorker = (): Promise<HashWorkerClient | undefined> => (shared ??= canStartBlobWorker() ? start().catch(() => undefined) : Promise.resolve(undefined));
