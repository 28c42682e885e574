/**
 * Spawns a harness child script (`node --import tsx <script> …`) with a JSON-lines pipe,
 * optionally inside a loopback-only network namespace.
 *
 * Namespace recipe (we run as root; `unshare` from util-linux works here):
 *   unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' node --import tsx <script> <args…>
 * - A new net namespace has `lo` DOWN; without `ip link set lo up` even 127.0.0.1 fails.
 * - `unshare` without `--fork` execs its command and `sh` execs node, so `child.pid` IS the
 *   node process: killing it by PID kills the runner, not a wrapper.
 * - Passing the command as "$0" "$@" avoids any shell quoting of paths and JSON arguments.
 * - Pipes (stdin/stdout/stderr) cross namespaces; sockets do not. Only the child is
 *   namespaced; the vitest process keeps the host network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createJsonLinePort, type Envelope, type JsonPort } from './jsonLines';

/** The repository root: child scripts run there so `--import tsx` and bare imports resolve. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Keep at most this much of a child's stderr for error messages. */
const STDERR_KEEP = 64 * 1024;

/** Options of {@link spawnScript}. */
export interface SpawnScriptOptions {
  /** Run the child in a fresh loopback-only network namespace. Default false. */
  readonly loopbackNamespace?: boolean;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** Copy the child's stderr to ours as it arrives. Default: only if HARNESS_VERBOSE is set. */
  readonly echoStderr?: boolean;
}

/** A running harness child. */
export interface SpawnedScript {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: JsonPort<Envelope>;
  /** Resolves when the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The tail of the child's stderr so far. */
  stderr(): string;
}

/** Starts `node --import tsx <script> ...args` with stdin/stdout as a JSON-lines {@link Envelope} port. */
export function spawnScript(script: string, args: readonly string[], options: SpawnScriptOptions = {}): SpawnedScript {
  const node = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...commandArgs] = options.loopbackNamespace ? ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...node] : node;
  const child = spawn(command, commandArgs, { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`spawnScript: could not start ${command}`);
  let stderr = '';
  const echo = options.echoStderr ?? Boolean(process.env.HARNESS_VERBOSE);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
    if (echo) process.stderr.write(text);
  });
  // A write after the child died must not crash the parent with EPIPE.
  child.stdin!.on('error', () => undefined);
  const port = createJsonLinePort<Envelope>(child.stdout!, child.stdin!, (line) => {
    stderr = (stderr + `[stdout] ${line}\n`).slice(-STDERR_KEEP);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, pid: child.pid, port, exited, stderr: () => stderr };
}

/** `process.kill(pid, sig)` that ignores ESRCH (the process is already gone). */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Asks nicely (`{t:'close'}`), then SIGTERM, then SIGKILL, by PID; resolves when the child is gone. */
export async function stopScript(spawned: SpawnedScript, graceMs = 5_000): Promise<void> {
  const { child, exited } = spawned;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const within = (ms: number): Promise<boolean> =>
    Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  spawned.port.send({ t: 'close' });
  child.stdin!.end();
  if (await within(graceMs)) return;
  signal(spawned.pid, 'SIGTERM');
  if (await within(2_000)) return;
  signal(spawned.pid, 'SIGKILL');
  await exited;
}
