/**
 * The command line finds what it may not read or write before it connects (an outside check: an unreadable file
 * and a receive folder that could not be written were found only after pairing and the accept, failed the other
 * side's transfer too, and the folder's message named no folder). Root passes every permission check
 * (CAP_DAC_OVERRIDE), so when the suite runs as root the CLI runs without those capabilities
 * (setpriv --bounding-set), as any user would.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, REPO_ROOT } from './spawnCli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tallow-cli-perms-'));
  writeFileSync(join(dir, 'ok.bin'), 'ok');
  writeFileSync(join(dir, 'secret.bin'), 'no');
  chmodSync(join(dir, 'secret.bin'), 0o000);
  mkdirSync(join(dir, 'readonly'));
  chmodSync(join(dir, 'readonly'), 0o555);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as a process without root's power over permissions; port 1 refuses, so connecting fails fast. */
function cli(args: string[]): { code: number | null; output: string } {
  const asRoot = process.getuid?.() === 0;
  const node = [process.execPath, '--import', 'tsx', CLI_MAIN, ...args, '--server', 'http://127.0.0.1:1', ...(args[0] === 'send' ? ['--no-qr'] : [])];
  const r = asRoot ? spawnSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', ...node], { cwd: REPO_ROOT, encoding: 'utf8' }) : spawnSync(node[0], node.slice(1), { cwd: REPO_ROOT, encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('tallow-rx: permissions, before connecting', () => {
  it('send with a file it may not read: exit 1 naming the file, no connection tried', () => {
    const { code, output } = cli(['send', join(dir, 'ok.bin'), join(dir, 'secret.bin')]);
    expect(code).toBe(1);
    expect(output).toContain(`cannot read ${join(dir, 'secret.bin')} (EACCES)`);
    expect(output).not.toMatch(/cannot reach|ECONNREFUSED/);
  }, 30_000);

  it('receive --to a folder it may not write, or a folder to create inside one: exit 1 naming it, no connection tried', () => {
    const ro = join(dir, 'readonly');
    const into = cli(['receive', 'ABC-DEF', '--to', ro]);
    expect(into.code).toBe(1);
    expect(into.output).toContain(`cannot write into ${ro} (EACCES)`);
    expect(into.output).not.toMatch(/cannot reach|ECONNREFUSED/);
    const below = cli(['receive', 'ABC-DEF', '--to', join(ro, 'new', 'deeper')]);
    expect(below.code).toBe(1);
    expect(below.output).toContain(`cannot write into ${ro}, where ${join(ro, 'new', 'deeper')} would be created (EACCES)`);
  }, 30_000);

  it('receive --to a writable folder still connects (the control case: port 1 refuses)', () => {
    const { code, output } = cli(['receive', 'ABC-DEF', '--to', join(dir, 'fresh')]);
    expect(code).toBe(1);
    expect(output).toMatch(/cannot reach|ECONNREFUSED/);
  }, 30_000);
});
