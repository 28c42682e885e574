/**
 * A throwaway coturn (`turnserver`, Debian package) on 127.0.0.1 for relay tests: TURN REST-API
 * shared secret, UDP only (no TLS/DTLS listeners), loopback peers allowed, no CLI, no config file,
 * its own SQLite file in a temp folder; stopped by PID.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redisServer';

/** A running turnserver. */
export interface Coturn {
  /** `turn:127.0.0.1:PORT?transport=udp` */
  readonly url: string;
  readonly secret: string;
  readonly pid: number;
  /** Its log so far. */
  log(): string;
  stop(): Promise<void>;
}

/** The flags the tests (and docs/deploy.md's sample) use, minus ports and files; `--verbose` (added below) logs each ALLOCATE with its username. */
export const COTURN_FLAGS = ['--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '--use-auth-secret', '--no-tls', '--no-dtls', '--allow-loopback-peers', '--no-cli', '--fingerprint', '--no-multicast-peers', '--realm', 'tallow.test'];

/** Starts turnserver and resolves once its relay and auth threads are up. */
export async function startCoturn(secret = 'tallow-test-secret', timeoutMs = 15_000): Promise<Coturn> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tallow-coturn-'));
  // A relay port range of its own, derived from the listening port so parallel runs rarely collide.
  const minPort = 40_000 + (port % 200) * 100;
  const args = ['-n', '--verbose', ...COTURN_FLAGS, '--listening-port', String(port), '--min-port', String(minPort), '--max-port', String(minPort + 99), '--static-auth-secret', secret, '--log-file', 'stdout', '--simple-log', '--userdb', join(dir, 'turndb'), '--pidfile', join(dir, 'turn.pid')];
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start turnserver (apt-get install coturn)');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`turnserver not ready within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      log += d.toString();
      if (/IO method \(auth thread\)/.test(log) && /Total General servers/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`turnserver exited:\n${log}`));
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    secret,
    pid: child.pid,
    log: () => log,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
        await exited;
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
