/**
 * Starts a link emulator, in this process or (default) in a child process of
 * its own, behind one async API ({@link LinkEmulatorApi}).
 *
 * ```
 * startLinkEmulator(symmetricLink({ rateMbps: 20, rttMs: 40 }))
 *   ─► addPath() per peer-connection pair ─► connectThroughEmulator(a, b, emulator)
 *   ─► … transfer … ─► stats() ─► close()
 * ```
 *
 * ## Example
 * ```ts
 * const emulator = await startLinkEmulator(symmetricLink({ rateMbps: 100, rttMs: 40, lossRate: 0.005 }));
 * await connectThroughEmulator(pcA, pcB, emulator);
 * console.log(await emulator.stats());
 * await emulator.close();
 * ```
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LinkConfig } from './linkConfig';
import { UdpRelay, type EmulatorPath, type LinkEmulatorApi, type LinkStats } from './UdpRelay';

export type { EmulatorPath, LinkEmulatorApi, LinkStats } from './UdpRelay';

/** Options of {@link startLinkEmulator}. */
export interface LinkEmulatorOptions {
  /** `process` (default): a child process, so the relay gets its own event loop. `inline`: this process. */
  readonly mode?: 'process' | 'inline';
  /** Scheduling loop: poll with setImmediate within this many ms of a release. Default 1.5. */
  readonly spinMs?: number;
}

/** A running emulator. `pid` is set in `process` mode. */
export interface LinkEmulator extends LinkEmulatorApi {
  readonly pid?: number;
}

const RELAY_SCRIPT = fileURLToPath(new URL('./relayProcess.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts an emulator with `config`; see {@link LinkEmulatorOptions}. */
export async function startLinkEmulator(config: LinkConfig = {}, options: LinkEmulatorOptions = {}): Promise<LinkEmulator> {
  if (options.mode === 'inline') return new UdpRelay(config, { spinMs: options.spinMs });
  const args = [JSON.stringify(config), ...(options.spinMs === undefined ? [] : [String(options.spinMs)])];
  const child = fork(RELAY_SCRIPT, args, { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return connect(child);
}

function connect(child: ChildProcess): Promise<LinkEmulator> {
  // Calls waiting for an answer, by id.
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`link emulator exited (code ${code}, signal ${signal})`));
    pending.clear();
  });
  const call = <T>(method: string, ...args: unknown[]): Promise<T> => {
    if (exited) return Promise.reject(new Error('link emulator has exited'));
    return new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, method, args });
    });
  };
  return new Promise((resolve, reject) => {
    const onExit = () => reject(new Error('link emulator exited before it was ready'));
    child.once('exit', onExit);
    child.on('message', (m: any) => {
      if (m?.ready) {
        child.off('exit', onExit);
        resolve({
          pid: child.pid,
          addPath: () => call<EmulatorPath>('addPath'),
          learn: (pathId, side, port) => call<void>('learn', pathId, side, port),
          configure: (config) => call<void>('configure', config),
          stats: () => call<LinkStats>('stats'),
          close: async () => {
            if (exited) return;
            await call<void>('close').catch(() => undefined);
            const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
            await exit;
            clearTimeout(timer);
          },
        });
        return;
      }
      const p = pending.get(m?.id);
      if (!p) return;
      pending.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
  });
}
