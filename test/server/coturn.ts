/**
 * A throwaway coturn (`turnserver`, Debian package) on 127.0.0.1 for relay tests: TURN REST-API
 * shared secret, UDP only (no TLS/DTLS listeners), loopback peers allowed, no config file, its own
 * SQLite file in a temp folder; stopped by PID.
 *
 * Its telnet CLI listens on 127.0.0.1 only, with a random password: the tests use it to end a
 * user's allocations (`cs <session>`), which makes coturn log their final traffic counters. With
 * `--verbose`, coturn logs a session's `usage` only every 4096 packets and when the session ends,
 * and libjuice never ends its allocations itself (they expire after 10 minutes), so without the
 * CLI the last up to 4095 packets of a transfer would never be counted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redisServer';

/** Options of {@link startCoturn}. */
export interface CoturnConfig {
  /** The REST-API shared secret (`--static-auth-secret`). Default `'tallow-test-secret'`. */
  readonly secret?: string;
  /** How long to wait for turnserver to start, ms. Default 15000. */
  readonly readyTimeoutMs?: number;
  /**
   * The address coturn relays from (`--relay-ip`), i.e. the address of every relay candidate. It
   * must be a loopback address (on `lo`). Default `127.0.0.1`. The Node relay test uses
   * `127.0.0.2`: coturn's permissions are per IP address, and with the peers on 127.0.0.1 too, a
   * peer's direct packet would pass the other peer's permission (see turnRelay.node.spec.ts).
   */
  readonly relayIp?: string;
}

/** What coturn counted for one user's allocations, summed over its `usage` log lines, in bytes. */
export interface RelayTraffic {
  /** From the client to coturn (data to relay, and TURN requests). */
  readonly fromClientBytes: number;
  /** From coturn to the client. */
  readonly toClientBytes: number;
  /** Received on the relay address from peers. */
  readonly fromPeersBytes: number;
  /** Sent from the relay address to peers. */
  readonly toPeersBytes: number;
}

/** A running turnserver. */
export interface Coturn {
  /** `turn:127.0.0.1:PORT?transport=udp` */
  readonly url: string;
  readonly secret: string;
  /** See {@link CoturnConfig.relayIp}. */
  readonly relayIp: string;
  readonly pid: number;
  /** Its log so far. */
  log(): string;
  /** Ends the user's allocations through the CLI, waits for coturn to log them closed, and returns their traffic. */
  endAllocations(username: string, timeoutMs?: number): Promise<RelayTraffic>;
  stop(): Promise<void>;
}

/** The flags the tests (and docs/deploy.md's sample) use, minus addresses, ports, CLI and files; `--verbose` (added below) logs each ALLOCATE with its username. */
export const COTURN_FLAGS = ['--listening-ip', '127.0.0.1', '--use-auth-secret', '--no-tls', '--no-dtls', '--allow-loopback-peers', '--fingerprint', '--no-multicast-peers', '--realm', 'tallow.test'];

/** Starts turnserver and resolves once its relay and auth threads are up. */
export async function startCoturn(config: CoturnConfig = {}): Promise<Coturn> {
  const { secret = 'tallow-test-secret', readyTimeoutMs = 15_000, relayIp = '127.0.0.1' } = config;
  if (!/^127\.\d+\.\d+\.\d+$/.test(relayIp)) throw new Error(`relayIp must be a loopback address, got ${relayIp}`);
  const port = await freePort();
  let cliPort = await freePort();
  while (cliPort === port) cliPort = await freePort();
  const cliPassword = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'tallow-coturn-'));
  // A relay port range of its own, derived from the listening port so parallel runs rarely collide.
  const minPort = 40_000 + (port % 200) * 100;
  const args = ['-n', '--verbose', ...COTURN_FLAGS, '--relay-ip', relayIp, '--listening-port', String(port), '--min-port', String(minPort), '--max-port', String(minPort + 99)];
  args.push('--cli-ip', '127.0.0.1', '--cli-port', String(cliPort), '--cli-password', cliPassword);
  args.push('--static-auth-secret', secret, '--log-file', 'stdout', '--simple-log', '--userdb', join(dir, 'turndb'), '--pidfile', join(dir, 'turn.pid'));
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start turnserver (apt-get install coturn)');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  const onLog: Array<() => void> = [];
  const append = (d: Buffer): void => {
    log += d.toString();
    onLog.forEach((f) => f());
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  await logMatches(() => log, onLog, (l) => /IO method \(auth thread\)/.test(l) && /Total General servers/.test(l), readyTimeoutMs, exited);
  let stopping: Promise<void> | undefined;
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    secret,
    relayIp,
    pid: child.pid,
    log: () => log,
    async endAllocations(username, timeoutMs = 10_000) {
      const ids = sessionIds(log, username);
      if (ids.length === 0) throw new Error(`coturn has no session of user ${username}`);
      await cliCommands(cliPort, [cliPassword, ...ids.map((id) => `cs ${id}`)]);
      await logMatches(() => log, onLog, (l) => ids.every((id) => l.includes(`session ${id}: closed (2nd stage)`)), timeoutMs, exited);
      return relayTraffic(log, ids);
    },
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

/** The ids (18 digits, as logged) of the user's sessions. */
export function sessionIds(log: string, username: string): string[] {
  const ids = new Set<string>();
  for (const m of log.matchAll(/session (\d{18}): new, realm=<[^>]*>, username=<([^>]*)>/g)) if (m[2] === username) ids.add(m[1]);
  return [...ids];
}

/** Sums the sessions' `usage` and `peer usage` lines: coturn logs the counters since its previous line, then resets them. */
export function relayTraffic(log: string, ids: readonly string[]): RelayTraffic {
  const sums = { fromClientBytes: 0, toClientBytes: 0, fromPeersBytes: 0, toPeersBytes: 0 };
  for (const m of log.matchAll(/session (\d{18}): (peer )?usage: realm=<[^>]*>, username=<[^>]*>, rp=\d+, rb=(\d+), sp=\d+, sb=(\d+)/g)) {
    if (!ids.includes(m[1])) continue;
    if (m[2]) {
      sums.fromPeersBytes += Number(m[3]);
      sums.toPeersBytes += Number(m[4]);
    } else {
      sums.fromClientBytes += Number(m[3]);
      sums.toClientBytes += Number(m[4]);
    }
  }
  return sums;
}

/** Resolves once `test(log())` holds (checked on every new log output); rejects on timeout or exit. */
function logMatches(log: () => string, onLog: Array<() => void>, test: (log: string) => boolean, timeoutMs: number, exited: Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onLog.splice(onLog.indexOf(check), 1);
      if (error) reject(error);
      else resolve();
    };
    const check = (): void => {
      if (test(log())) done();
    };
    const timer = setTimeout(() => done(new Error(`turnserver: the expected log did not appear within ${timeoutMs} ms:\n${log()}`)), timeoutMs);
    onLog.push(check);
    void exited.then(() => done(new Error(`turnserver exited:\n${log()}`)));
    check();
  });
}

/** Sends the lines to coturn's telnet CLI on 127.0.0.1, each after the previous prompt, then hangs up. */
function cliCommands(port: number, lines: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    let next = 0;
    // coturn resets the connection when a client hangs up; after the last prompt that is the expected end.
    socket.on('error', (error) => (next > lines.length ? resolve() : reject(error)));
    socket.once('close', () => (next > lines.length ? resolve() : reject(new Error('coturn CLI closed the connection early'))));
    // "Enter password: " first, then "> " after every command.
    socket.on('data', (text: string) => {
      if (!/(password: |> )\s*$/.test(text)) return;
      if (next < lines.length) socket.write(`${lines[next++]}\r\n`);
      else if (next++ === lines.length) socket.end();
    });
  });
}
