/**
 * A Worker from a bundled script's text, started through a Blob URL (the way the library ships its workers:
 * no separate file for an app's bundler to find and serve). Used by the page's hash worker and by
 * `channelsInWorker`.
 */

/** True where a Blob-URL worker can at least be tried (`Worker`, `Blob` and `URL.createObjectURL` exist). */
export const canStartBlobWorker = (): boolean => typeof Worker === 'function' && typeof Blob === 'function' && typeof URL?.createObjectURL === 'function';

/**
 * Puts `source` in a Blob URL and hands `start` a function that makes a Worker named `name` from it; the URL is
 * revoked once `start`'s promise settles (the worker has loaded the script by then, or failed). A Content-
 * Security-Policy without `blob:` workers makes `new Worker` throw or the worker fail: `start` decides what
 * that means.
 *
 * @param source The worker's script, as text.
 * @param name The worker's name (shown in the browser's developer tools).
 * @param start Starts the worker and resolves once it is ready (or not).
 * @return What `start` resolves with.
 */
export async function startBlobWorker<T>(source: string, name: string, start: (create: () => Worker) => Promise<T>): Promise<T> {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try {
    return await start(() => new Worker(url, { name }));
  } finally {
    URL.revokeObjectURL(url);
  }
}
