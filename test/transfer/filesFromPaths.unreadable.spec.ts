/**
 * A file this process may not read is found while the set is collected, not once the receiver has accepted (an
 * outside check: `send ok.bin secret.bin` with secret.bin mode 000 printed its code, paired, and failed the whole
 * session with ERR_SOURCE_READ, cutting ok.bin short). Root reads anything (CAP_DAC_OVERRIDE), so the walk runs
 * in a child process; when the suite runs as root, that child keeps uid 0 but loses the capabilities that
 * bypass file permissions (setpriv --bounding-set), so a mode-000 file is unreadable to it as to anyone.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Runs filesFromPaths(paths) in a child without root's power over permissions; returns its result or error. */
function walkAsUser(paths: string[]): { files?: string[]; skipped?: { path: string; reason: string }[]; error?: { name: string; code: string; message: string } } {
  const src = resolve(__dirname, '../../src/transfer/filesFromPaths.ts');
  const script = `
    import { filesFromPaths } from ${JSON.stringify(src)};
    filesFromPaths(${JSON.stringify(paths)}).then(
      (set) => console.log(JSON.stringify({ files: set.files.map((f) => f.name), skipped: set.skipped })),
      (e) => console.log(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message } })),
    );`;
  const asRoot = process.getuid?.() === 0;
  const cmd = asRoot ? 'setpriv' : process.execPath;
  const args = [...(asRoot ? ['--bounding-set=-dac_override,-dac_read_search', process.execPath] : []), '--import', 'tsx', '--input-type=module', '-e', script];
  const out = execFileSync(cmd, args, { cwd: resolve(__dirname, '../..'), env: { ...process.env, TSX_TSCONFIG_PATH: resolve(__dirname, '../../tsconfig.json') }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('filesFromPaths: files this process may not read', () => {
  it('a file given is a SourceReadError naming it at once; one inside a folder is skipped with the reason', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tallow-unreadable-'));
    dirs.push(root);
    await chmod(root, 0o755);
    await writeFile(join(root, 'ok.bin'), 'ok');
    await writeFile(join(root, 'secret.bin'), 'no');
    await chmod(join(root, 'secret.bin'), 0o000);
    await mkdir(join(root, 'folder'), { mode: 0o755 });
    await chmod(join(root, 'folder'), 0o755);
    await writeFile(join(root, 'folder', 'a.bin'), 'a');
    await writeFile(join(root, 'folder', 'locked.bin'), 'l');
    await chmod(join(root, 'folder', 'locked.bin'), 0o000);

    const given = walkAsUser([join(root, 'ok.bin'), join(root, 'secret.bin')]);
    expect(given.error).toMatchObject({ name: 'SourceReadError', code: 'ERR_SOURCE_READ' });
    expect(given.error!.message).toBe(`cannot read ${join(root, 'secret.bin')} (EACCES)`);

    const inFolder = walkAsUser([join(root, 'folder'), join(root, 'ok.bin')]);
    expect(inFolder.error).toBeUndefined();
    expect(inFolder.files).toEqual(['folder/a.bin', 'ok.bin']);
    expect(inFolder.skipped).toEqual([{ path: 'folder/locked.bin', reason: 'cannot read (EACCES)' }]);
  }, 30_000);
});
