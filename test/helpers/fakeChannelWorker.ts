/**
 * The channel worker's real script (src/channels/channelWorkerSource.ts) run in this thread, behind a
 * `WorkerLike` that passes messages the way a Worker does: each hop is a separate task (`deliver`), and
 * ArrayBuffers in the transfer list are transferred (the sender's copy is detached) by `structuredClone`.
 * An `adopt` passes its channel object as it is, as a transfer of the channel would.
 */
import { CHANNEL_WORKER_SOURCE } from '../../src/channels/channelWorkerSource';
import type { WorkerLike } from '../../src/channels/ChannelWorker';

type Listener = (event: any) => void;

/** A queue of tasks, run by `flush()`. */
export function taskQueue(): { deliver: (task: () => void) => void; flush: () => number } {
  const tasks: Array<() => void> = [];
  return {
    deliver: (task) => void tasks.push(task),
    flush: () => {
      let n = 0;
      for (let t = tasks.shift(); t; t = tasks.shift()) n += (t(), 1);
      return n;
    },
  };
}

export interface FakeChannelWorker extends WorkerLike {
  /** Messages the page posted, in order (the `adopt`s with their channel). */
  readonly posted: Array<Record<string, unknown>>;
  readonly terminated: boolean;
  /** Makes the next `adopt`s throw `DataCloneError`, as a browser that cannot transfer a channel does. */
  refuseTransfers(refuse: boolean): void;
  /** Fires the Worker's `error` event (the script crashed). */
  crash(): void;
}

const cloneOf = (m: Record<string, unknown>, transfer: Transferable[]) =>
  m.t === 'adopt' ? m : structuredClone(m, { transfer: transfer.filter((x): x is ArrayBuffer => x instanceof ArrayBuffer) });

/**
 * Starts the script. `startsReady: false` keeps its `ready` from the page (a worker that never answers).
 */
export function fakeChannelWorker(deliver: (task: () => void) => void, options: { startsReady?: boolean } = {}): FakeChannelWorker {
  const listeners = new Map<string, Set<Listener>>();
  const emit = (type: string, event: unknown) => [...(listeners.get(type) ?? [])].forEach((l) => l(event));
  let terminated = false;
  let refuse = false;
  let silent = options.startsReady === false;
  const posted: Array<Record<string, unknown>> = [];
  const postToPage = (m: Record<string, unknown>, transfer: Transferable[] = []) => {
    if (terminated || (silent && m.t === 'ready')) return;
    const copy = cloneOf(m, transfer);
    deliver(() => !terminated && emit('message', { data: copy }));
  };
  const toWorker = new Function('postMessage', `let onmessage;\n${CHANNEL_WORKER_SOURCE}\nreturn (data) => onmessage({ data });`)(postToPage) as (data: unknown) => void;
  silent = false;
  return {
    posted,
    get terminated() {
      return terminated;
    },
    postMessage(message: any, transfer: Transferable[]) {
      if (message.t === 'adopt' && refuse) throw Object.assign(new Error('RTCDataChannel is no longer transferable'), { name: 'DataCloneError' });
      posted.push(message);
      const copy = cloneOf(message, transfer);
      deliver(() => !terminated && toWorker(copy));
    },
    addEventListener(type: string, listener: Listener) {
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener);
    },
    terminate() {
      terminated = true;
    },
    refuseTransfers(r: boolean) {
      refuse = r;
    },
    crash() {
      emit('error', { message: 'boom' });
    },
  };
}
