/**
 * The `tallow-rx` command line as a child process against the real rendezvous server on 127.0.0.1
 * (in this process), peers on node-datachannel bound to 127.0.0.1:
 * - `--help` names every flag; usage errors exit 2; an unknown code exits 1 (these run `main()` in
 *   this process; the rest spawn src/cli/bin.ts);
 * - terminal → terminal: a folder with a 24 MiB file and a small one arrives verified (SHA-256 here
 *   too), both sides print the same SAS, a QR code, progress and a summary, and exit 0;
 * - resume: a receiver killed mid-transfer and started again on the same folder continues the file;
 * - decline: a receiver in tmux (a real terminal) is asked, answers n: the sender exits 3.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from './runMain';
import { startRendezvousServer, type RendezvousServer } from '../../src/server/startRendezvousServer';
import { CLI_MAIN, REPO_ROOT, spawnCli } from './spawnCli';
import { USAGE } from '../../src/cli/usage';
import { freePort, startRedisServer } from '../server/redisServer';
import { startServeProcess, type ServeProcess } from '../server/serveProcess';
import { wsClient } from '../server/wsClient';

const MiB = 1024 * 1024;
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
/** Deterministic bytes. */
const pattern = (size: number, seed: number): Buffer => {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
};

let server: RendezvousServer;
let dir: string;
const net = () => ['--server', server.url, '--bind-address', '127.0.0.1'];

beforeAll(async () => {
  // With a page, as the web example serves one: send prints its link and QR code (tallow-rx serve has none).
  server = await startRendezvousServer({ port: 0, handler: (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title>') });
  dir = mkdtempSync(join(tmpdir(), 'tallow-cli-'));
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tallow-rx: usage (in process)', () => {
  it('--help documents every flag the parser accepts and exits 0', async () => {
    const { code, output } = await runMain(['--help']);
    expect(code).toBe(0);
    const source = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8');
    const flags = [...source.slice(source.indexOf('const OPTIONS'), source.indexOf('} as const')).matchAll(/^\s+'?([a-z-]+)'?: \{ type/gm)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(15);
    for (const flag of flags) expect(output, `--${flag}`).toContain(`--${flag}`);
    expect(output).toBe(USAGE);
  });

  it.each([
    [['frobnicate'], /unknown command/],
    // Node's own text ended in an unbalanced quote ("… as in '-- \"--nope\""): ours names the flag.
    [['send', '--nope'], /^tallow-rx: unknown flag --nope\n/],
    [['receive'], /needs the code/],
    [['receive', 'ABC-DE0'], /not a code/],
    [['receive', 'ABC-DEF', '--profile', 'lan'], /does not take --profile/],
    [['send', '/no/such/file'], /no such file/],
    [['send', 'README.md', '--lanes', '9'], /--lanes must be/],
    // The list the help gave once (wan, lossy, satellite): names the library does not know, which failed after connecting.
    [['send', 'README.md', '--profile', 'wan'], /--profile must be one of auto, lan, wifi, internet, poor, mobile, got wan/],
    [['send', 'README.md', '--profile', 'satellite'], /--profile must be one of/],
    [['serve', '--port', '70000'], /--port must be/],
    [['serve', '--turn-url', 'turn:x'], /needs --turn-secret/],
    [[], /which command/],
  ])('%j → exit 2 with a hint', async (args, message) => {
    const { code, output } = await runMain(args);
    expect(code).toBe(2);
    expect(output).toMatch(message);
    expect(output).toContain('--help');
  });

  it('an unknown code exits 1 and says so', async () => {
    const { code, output } = await runMain(['receive', 'ZZZ-ZZZ', ...net()]);
    expect(code).toBe(1);
    expect(output).toMatch(/no transfer has this code/);
  });

  it('the executable (src/cli/bin.ts, a child process) runs main: --version', async () => {
    const cli = spawnCli(['--version']);
    expect(await cli.exited).toBe(0);
    expect(cli.output().trim()).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });
});

describe('tallow-rx: send and receive', () => {
  it('terminal → terminal: a folder arrives verified, same SAS on both sides, QR and summary, exit 0', async () => {
    const src = join(dir, 'photos');
    mkdirSync(join(src, 'old'), { recursive: true });
    writeFileSync(join(src, 'big.bin'), pattern(24 * MiB, 7));
    writeFileSync(join(src, 'old', 'note.txt'), 'hello\n');
    const to = join(dir, 'received');

    const send = spawnCli(['send', src, ...net()]);
    const [, code] = await send.waitFor(/code: ([A-Z0-9]{3}-[A-Z0-9]{3})/);
    // The QR code of the page link: half-block characters, several lines.
    await send.waitFor(/open http:\/\/127\.0\.0\.1:\d+\/\?code=[A-Z0-9-]{7}\n[\s\S]*[▀▄█][\s\S]*\n[\s\S]*\n/);
    // Not a terminal (a pipe): the QR code is plain block characters, no colour escapes.
    expect(send.output()).not.toContain('\x1b');
    expect(send.output()).toMatch(/code: [A-Z0-9]{3}-[A-Z0-9]{3} \(valid for 10 min\)/);
    const receive = spawnCli(['receive', code.toLowerCase(), '--to', to, ...net()]);
    const [sendCode, receiveCode] = await Promise.all([send.exited, receive.exited]);
    expect({ sendCode, receiveCode, send: send.output(), receive: receive.output() }).toMatchObject({ sendCode: 0, receiveCode: 0 });

    expect(sha256(join(to, 'photos', 'big.bin'))).toBe(sha256(join(src, 'big.bin')));
    expect(readFileSync(join(to, 'photos', 'old', 'note.txt'), 'utf8')).toBe('hello\n');
    const sas = (text: string) => text.match(/SAS (\d{3} \d{3})/)?.[1];
    expect(sas(send.output())).toMatch(/^\d{3} \d{3}$/);
    expect(sas(receive.output())).toBe(sas(send.output()));
    for (const out of [send.output(), receive.output()]) {
      expect(out).toMatch(/\[█+░*\]\s+\d+%/);
      expect(out).toMatch(/✓ photos\/big\.bin\s+24\.0 MiB\s+sha256 [0-9a-f]{16}…/);
      expect(out).toMatch(/verified 2 files, 24\.0 MiB in [\d.]+ s/);
    }
  });

  it('resume: a receiver killed mid-file and run again on the same folder continues where it was', async () => {
    const file = join(dir, 'resume.bin');
    writeFileSync(file, pattern(96 * MiB, 9));
    const to = join(dir, 'resumed');

    const send1 = spawnCli(['send', file, '--no-qr', ...net()]);
    const [, code1] = await send1.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive1 = spawnCli(['receive', code1, '--to', to, ...net()]);
    await receive1.waitFor(/\s([1-9]\d)%/, 60_000);
    receive1.child.kill('SIGKILL');
    send1.child.kill('SIGTERM');
    await Promise.all([receive1.exited, send1.exited]);

    const send2 = spawnCli(['send', file, '--no-qr', ...net()]);
    const [, code2] = await send2.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive2 = spawnCli(['receive', code2, '--to', to, ...net()]);
    const [a, b] = await Promise.all([send2.exited, receive2.exited]);
    expect({ a, b, out: receive2.output() }).toMatchObject({ a: 0, b: 0 });
    const from = Number(receive2.output().match(/resuming from (\d+)/)?.[1]);
    // The summary's speed leaves out what was already on disk, and says so.
    expect(receive2.output()).toMatch(/verified 1 file, 96\.0 MiB in [\d.]+ s \([^)]*, [\d.]+ MiB of it already here\)/);
    expect(from).toBeGreaterThan(0);
    expect(sha256(join(to, 'resume.bin'))).toBe(sha256(file));
  }, 90_000);
});

describe('tallow-rx: stopping and waiting', () => {
  /** Every file under `root`, as paths. */
  const walk = (root: string): string[] =>
    readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(root, e.name)) : [join(root, e.name)]));

  it('Ctrl-C on the receiver mid-transfer: exit 130, the sender hears the cancel (exit 1, ERR_CANCELLED), no empty part file is left, and receiving again completes', async () => {
    const src = join(dir, 'cut');
    mkdirSync(src);
    for (let i = 0; i < 3; i++) writeFileSync(join(src, `f${i}.bin`), pattern(32 * MiB, 20 + i));
    const to = join(dir, 'cut-to');

    const send1 = spawnCli(['send', src, '--no-qr', ...net()]);
    const [, code1] = await send1.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive1 = spawnCli(['receive', code1, '--to', to, ...net()]);
    await receive1.waitFor(/\s([1-9]\d?)%/, 60_000);
    receive1.child.kill('SIGINT');
    expect({ code: await receive1.exited, out: receive1.output() }).toMatchObject({ code: 130 });
    expect(receive1.output()).toMatch(/interrupted: cancelling the transfer on both sides/);
    // The sender is told at once, not after its control channel times out.
    await send1.waitFor(/cancelled by receiver.*\[ERR_CANCELLED\]/, 15_000);
    expect(await send1.exited).toBe(1);
    // What is left: part files with bytes, each with its record for resume; no empty one.
    const parts = walk(to).filter((p) => p.endsWith('.tallow-part'));
    for (const part of parts) {
      expect(statSync(part).size, part).toBeGreaterThan(0);
      expect(existsSync(`${part}.json`), `${part}.json`).toBe(true);
    }

    const send2 = spawnCli(['send', src, '--no-qr', ...net()]);
    const [, code2] = await send2.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive2 = spawnCli(['receive', code2, '--to', to, ...net()]);
    const [a, b] = await Promise.all([send2.exited, receive2.exited]);
    expect({ a, b, out: receive2.output() }).toMatchObject({ a: 0, b: 0 });
    for (let i = 0; i < 3; i++) expect(sha256(join(to, 'cut', `f${i}.bin`))).toBe(sha256(join(src, `f${i}.bin`)));
    expect(walk(to).filter((p) => p.includes('.tallow-part'))).toEqual([]);
  }, 120_000);

  it('Ctrl-C on the sender mid-transfer: exit 130, the receiver hears the cancel (exit 1, ERR_CANCELLED) and does not wait for the sender to hang up', async () => {
    const src = join(dir, 'cut-sender');
    mkdirSync(src);
    writeFileSync(join(src, 'big.bin'), pattern(96 * MiB, 7));
    const send = spawnCli(['send', src, '--no-qr', ...net()]);
    const [, code] = await send.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive = spawnCli(['receive', code, '--to', join(dir, 'cut-sender-to'), ...net()]);
    await send.waitFor(/\s([1-9]\d?)%/, 60_000);
    const t0 = performance.now();
    send.child.kill('SIGINT');
    const took = (p: Promise<number | null>) => p.then((c) => [c, Math.round(performance.now() - t0)] as const);
    const [[sent, sentMs], [received, receivedMs]] = await Promise.all([took(send.exited), took(receive.exited)]);
    console.log(`after the sender's SIGINT: sender exited in ${sentMs} ms, receiver in ${receivedMs} ms (information, not asserted)`);
    expect({ sent, received, out: receive.output() }).toMatchObject({ sent: 130, received: 1 });
    expect(receive.output()).toMatch(/cancelled by remote peer.*\[ERR_CANCELLED\]/);
  }, 120_000);

  it('a code nobody used expires: send says so and exits 1 (it used to wait out --timeout, 600 s)', async () => {
    const short = await startRendezvousServer({ port: 0, codeTtlMs: 2000 });
    try {
      const file = join(dir, 'expires.txt');
      writeFileSync(file, 'late\n');
      const send = spawnCli(['send', file, '--no-qr', '--server', short.url, '--bind-address', '127.0.0.1']);
      await send.waitFor(/code: [A-Z0-9-]{7} \(valid for 2 s\)/);
      await send.waitFor(/the code [A-Z0-9-]{7} expired and nobody joined; run send again/, 20_000);
      expect(await send.exited).toBe(1);
      // This server serves no page (as `tallow-rx serve`): no link to a 404, no QR code of one.
      expect(send.output()).not.toMatch(/open http/);
    } finally {
      await short.close();
    }
  });
});

describe('tallow-rx: --timeout after someone joined', () => {
  // A new-user check: with --timeout 5 and a connection that could not be made, both sides said "nobody joined
  // within 5 s" although each had been told the other joined.
  it('a receiver that joins and never answers: send says the other side joined but no connection was made, exit 1', async () => {
    const file = join(dir, 'joined.txt');
    writeFileSync(file, 'x\n');
    const send = spawnCli(['send', file, '--no-qr', '--timeout', '2', ...net()]);
    const code = (await send.waitFor(/code: ([A-Z0-9-]{7})/))[1];
    const mute = await wsClient(server.signalUrl, `code=${code.replace('-', '')}`);
    try {
      await mute.next('paired');
      await send.waitFor(/the other side joined, but no connection was made within 2 s \(--timeout\)/, 20_000);
      expect(await send.exited).toBe(1);
      expect(send.output()).not.toMatch(/nobody joined/);
    } finally {
      mute.ws.close();
    }
  }, 30_000);
});

describe('tallow-rx: the server restarts while the sender waits (Redis)', () => {
  it('the sender reconnects with its seat: the same code still works on the restarted server', async () => {
    const redis = await startRedisServer();
    const port = await freePort();
    const first = await startServeProcess(['--port', String(port), '--redis', redis.url]);
    let second: ServeProcess | undefined;
    try {
      const file = join(dir, 'survives.bin');
      writeFileSync(file, pattern(MiB, 11));
      const server = ['--server', `http://127.0.0.1:${port}`, '--bind-address', '127.0.0.1'];
      const send = spawnCli(['send', file, '--no-qr', ...server]);
      const [, code] = await send.waitFor(/code: ([A-Z0-9-]{7})/);
      await first.kill('SIGKILL');
      await send.waitFor(/reconnecting to keep the room \(attempt 1\)/);
      second = await startServeProcess(['--port', String(port), '--redis', redis.url]);
      const receive = spawnCli(['receive', code, '--to', join(dir, 'survived'), ...server]);
      const [a, b] = await Promise.all([send.exited, receive.exited]);
      expect({ a, b, send: send.output(), receive: receive.output() }).toMatchObject({ a: 0, b: 0 });
      expect(sha256(join(dir, 'survived', 'survives.bin'))).toBe(sha256(file));
    } finally {
      await first.kill('SIGKILL');
      await second?.kill('SIGKILL');
      await redis.stop();
    }
  }, 90_000);
});

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

/** Polls `read` every 100 ms until it returns a value, or rejects with `what` after `timeoutMs`. */
const poll = <T>(read: () => T | undefined, what: () => string, timeoutMs: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      let value: T | undefined;
      try {
        value = read();
      } catch {
        value = undefined;
      }
      if (value !== undefined) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(what()));
      }
    }, 100);
  });

/**
 * A receiver run in tmux (a real terminal) for the sender's `code`: waits for its question, types `keys`,
 * and resolves with its exit code and the screen.
 */
async function receiveInTmux(code: string, keys: readonly string[], name: string): Promise<{ exit: string; screen: string }> {
  const session = `tallow-cli-${process.pid}-${name}`;
  const exitFile = join(dir, `${name}.exit`);
  const command = `${process.execPath} --import tsx ${CLI_MAIN} receive ${code} --to ${join(dir, `${name}-nothing`)} ${net().join(' ')}; echo $? > ${exitFile}; sleep 1`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-c', REPO_ROOT, command]);
  const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  let last = '';
  try {
    // Wait for the question on the terminal, then answer it like a person.
    await poll(() => (/accept 1 file .*\[y\/N\]/.test(screen()) ? true : undefined), () => `no prompt on the terminal:\n${screen()}`, 30_000);
    execFileSync('tmux', ['send-keys', '-t', session, ...keys]);
    const exit = await poll(() => readFileSync(exitFile, 'utf8').trim() || undefined, () => `no exit code from the receiver:\n${last}`, 20_000);
    last = screen();
    return { exit, screen: last };
  } finally {
    try {
      execFileSync('tmux', ['kill-session', '-t', session]);
    } catch {
      // Already gone: the command ended and tmux closed the session.
    }
  }
}

describe.skipIf(!hasTmux && !process.env.CI)('tallow-rx in a terminal (tmux)', () => {
  it('the receiver asks; n declines: the sender exits 3, the receiver too', async () => {
    const file = join(dir, 'declined.txt');
    writeFileSync(file, 'no thanks\n');
    const send = spawnCli(['send', file, '--no-qr', ...net()]);
    const [, code] = await send.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive = await receiveInTmux(code, ['n', 'Enter'], 'decline');
    expect({ code: await send.exited, out: send.output() }).toMatchObject({ code: 3 });
    expect(send.output()).toMatch(/declined/);
    expect(receive.exit).toBe('3');
  });

  it('Ctrl-C at the question (readline, not a signal, in a raw terminal): the receiver exits 130, the sender hears the cancel', async () => {
    const file = join(dir, 'asked.txt');
    writeFileSync(file, 'maybe\n');
    const send = spawnCli(['send', file, '--no-qr', ...net()]);
    const [, code] = await send.waitFor(/code: ([A-Z0-9-]{7})/);
    const receive = await receiveInTmux(code, ['C-c'], 'ctrl-c');
    expect(receive.exit).toBe('130');
    await send.waitFor(/cancelled by receiver.*\[ERR_CANCELLED\]/, 15_000);
    expect(await send.exited).toBe(1);
  });
});
