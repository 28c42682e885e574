/**
 * `tallow-rx serve` as a child process (from source), for tests that kill an instance by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running instance. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/signal` */
  readonly signalUrl: string;
  readonly exited: Promise<void>;
  /** Sends `signal` by PID (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `tallow-rx serve --port 0 …args` and resolves once it listens. */
export async function startServeProcess(args: readonly string[], timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--port', '0', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start tallow-rx serve');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve not listening within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      log += d.toString();
      const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited:\n${log}`));
    });
  });
  return {
    child,
    pid: child.pid,
    url,
    signalUrl: `${url.replace('http:', 'ws:')}signal`,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
      await exited;
    },
  };
}
