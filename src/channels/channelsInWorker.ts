/**
 * `channelsInWorker(pc)`: the same peer connection, except that every data channel made on it from now on
 * (by `createDataChannel` or arriving in `datachannel`) runs in a dedicated Worker. The page keeps a
 * stand-in for each channel, so `sendFile`, `receiveFile` and any code written against `RTCDataChannel`'s
 * events work unchanged, but the calls that wait on the browser's WebRTC thread (`send()`) and the delivery
 * of each message no longer run on the page's main thread.
 *
 * ```ts
 * import { channelsInWorker, sendFile } from 'tallow-rx';
 *
 * const pc = await channelsInWorker(new RTCPeerConnection(config));
 * // …signal pc as usual; then
 * sendFile(pc, file).subscribe(render);
 * ```
 *
 * Where it cannot work it changes nothing: it resolves with `pc` itself when no worker starts (no `Worker`, as
 * in Node, or a Content-Security-Policy that forbids `blob:` workers), and a channel the browser refuses to
 * transfer (Firefox today) stays on the page as a plain channel.
 */
import { InvalidConfigError } from '../errors';
import type { PeerConnectionLike } from '../types';
import { ChannelWorker, type WorkerLike } from './ChannelWorker';
import { CHANNEL_WORKER_SOURCE } from './channelWorkerSource';
import { canStartBlobWorker, startBlobWorker } from '../hash/startBlobWorker';
import { workerOf } from './inWorker';
import { configObject } from '../configObject';

/** Options of {@link channelsInWorker}. */
export interface ChannelsInWorkerConfig {
  /** How long to wait for the worker to start, ms. Default 5000; past it the connection stays as it was. */
  readonly startTimeoutMs?: number;
  /** The worker to use, for tests: a function that starts one. Default: one shared Worker per page. */
  readonly startWorker?: () => WorkerLike;
}

/** The default of {@link ChannelsInWorkerConfig.startTimeoutMs}. */
export const CHANNEL_WORKER_START_TIMEOUT_MS = 5000;

let shared: Promise<ChannelWorker | undefined> | undefined;

/** Starts a worker and resolves once it said `ready`, or `undefined` if it fails or stays silent. */
function start(create: () => WorkerLike, timeoutMs: number): Promise<ChannelWorker | undefined> {
  return new Promise((resolve) => {
    let worker: WorkerLike;
    try {
      worker = create();
    } catch {
      return resolve(undefined);
    }
    const timer = setTimeout(() => settle(false), timeoutMs);
    const settle = (ok: boolean) => {
      clearTimeout(timer);
      if (!ok) worker.terminate();
      resolve(ok ? new ChannelWorker(worker) : undefined);
    };
    worker.addEventListener('message', (e: { data?: { t?: string } }) => e.data?.t === 'ready' && settle(true));
    worker.addEventListener('error', () => settle(false));
  });
}

/** The page's worker from the bundled script in a Blob URL; the URL goes once the worker started or failed. */
function pageWorker(timeoutMs: number): Promise<ChannelWorker | undefined> {
  if (!canStartBlobWorker()) return Promise.resolve(undefined);
  return startBlobWorker(CHANNEL_WORKER_SOURCE, 'tallow-rx channels', (create) => start(() => create() as unknown as WorkerLike, timeoutMs));
}

/**
 * Moves the data channels of `pc` into a Worker. Resolves with a stand-in for `pc` (same methods, same
 * events, `instanceof RTCPeerConnection` still true) whose new data channels run in the worker, or with
 * `pc` itself where no worker can run. Channels made before the call stay where they are. Calling it again
 * with the same connection (or its stand-in) resolves with the same stand-in.
 *
 * @param pc A peer connection, connected or not.
 * @param config {@link ChannelsInWorkerConfig}.
 * @return The connection to pass to `sendFile`, `receiveFile` and the rest.
 */
export async function channelsInWorker<T extends PeerConnectionLike>(pc: T, config: ChannelsInWorkerConfig = {}): Promise<T> {
  config = configObject('channelsInWorker', config);
  const timeoutMs = config.startTimeoutMs ?? CHANNEL_WORKER_START_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new InvalidConfigError('startTimeoutMs must be a positive number of ms', { startTimeoutMs: timeoutMs });
  if (!pc || typeof pc.createDataChannel !== 'function') throw new InvalidConfigError('channelsInWorker needs a peer connection', { type: typeof pc });
  if (workerOf(pc)) return pc;
  const host = config.startWorker ? await start(config.startWorker, timeoutMs) : await (shared ??= pageWorker(timeoutMs));
  return host ? host.wrap(pc) : pc;
}
