/**
 * The command line against bad input, in this process (`main()`): usage errors exit 2 before any
 * slow or visible work (walking folders, connecting, pairing with a sender), and a Redis that cannot
 * be reached exits 1 with a message that names it (without its password). Complements the usage
 * cases in cli.spec.ts.
 */
import { createServer, type AddressInfo } from 'node:net';
import { HANDSHAKE_TIMEOUT_MS } from '../../src/cli/connectFlags';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from './runMain';
import { freePort } from '../server/redisServer';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tallow-cli-usage-'));
  mkdirSync(join(dir, 'folder'));
  writeFileSync(join(dir, 'folder', 'a.txt'), 'a');
  // send reports a symbolic link it leaves out: that line shows whether the folder was walked.
  symlinkSync(join(dir, 'folder', 'a.txt'), join(dir, 'folder', 'link'));
  writeFileSync(join(dir, 'file.txt'), 'not a folder');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tallow-rx: bad input', () => {
  it.each([
    [['--lanes', '9'], /--lanes must be/],
    [['--timeout', '0'], /--timeout must be/],
    [['--server', 'ftp://example.org'], /--server must be/],
    [['--bind-address', 'eth0'], /--bind-address must be an IP address/],
  ])('send <folder> %j: exit 2 before the folder is walked', async (flags, message) => {
    const { code, output } = await runMain(['send', join(dir, 'folder'), ...flags]);
    expect(code).toBe(2);
    expect(output).toMatch(message);
    expect(output).not.toMatch(/left out/);
  });

  it('send walks the folder once the flags are good (the check above can fail)', async () => {
    // Port 1 refuses: the walk happened, then the connection failed.
    const { code, output } = await runMain(['send', join(dir, 'folder'), '--server', 'http://127.0.0.1:1', '--no-qr']);
    expect(code).toBe(1);
    expect(output).toMatch(/left out .*link/);
  });

  it('receive --to <a file>: exit 2 before connecting', async () => {
    const { code, output } = await runMain(['receive', 'ABC-DEF', '--to', join(dir, 'file.txt'), '--server', 'http://127.0.0.1:1']);
    expect(code).toBe(2);
    expect(output).toMatch(/--to must be a folder/);
  });

  it.each([
    [['--turn-ttl', '600'], /--turn-ttl needs --turn-url/],
    [['--turn-secret', 's'], /--turn-secret needs --turn-url/],
    [['--redis', 'localhost:6379'], /must be a redis:\/\/ or rediss:\/\/ URL/],
    [['--turn-url', 'http://x', '--turn-secret', 's'], /--turn-url must be a turn: or turns: URL/],
    [['--allow-origin', 'notaurl'], /--allow-origin must be an origin/],
  ])('serve %j: exit 2', async (flags, message) => {
    const { code, output } = await runMain(['serve', '--port', '0', ...flags]);
    expect(code).toBe(2);
    expect(output).toMatch(message);
  });

  it('receive against a server that takes the connection but never answers the upgrade: exit 1 after the handshake timeout, not silent for good', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      const { code, output } = await runMain(['receive', 'ABC-DEF', '--server', `http://127.0.0.1:${port}`]);
      expect(code).toBe(1);
      expect(output).toMatch(/cannot reach the rendezvous at ws:\/\/127\.0\.0\.1:\d+\/signal: Opening handshake has timed out/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
    } finally {
      silent.close();
    }
  }, 30_000);

  it('serve with a Redis nobody listens on: exit 1, naming the Redis without its password', async () => {
    const port = await freePort();
    const { code, output } = await runMain(['serve', '--port', '0', '--redis', `redis://user:hunter2@127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(output).toContain(`cannot reach Redis at redis://user:***@127.0.0.1:${port}`);
    expect(output).not.toContain('hunter2');
  });
});
