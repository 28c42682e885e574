/**
 * The README's first command keeps working: the demo runs a real transfer
 * (node-datachannel on 127.0.0.1) and reports a SHA-256 match.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo', () => {
  it('sends a generated file over real WebRTC and reports a SHA-256 match', async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', 'scripts/run-ts.mjs', 'examples/demo.ts', '--size', '8MiB'], {
      timeout: 60_000,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    expect(stdout).toMatch(/connected: 1 peer connection pair\(s\) over 127\.0\.0\.1/);
    expect(stdout).toMatch(/100\.0%/);
    expect(stdout).toMatch(/match\s+yes/);
    const [, source] = /source\s+([0-9a-f]{64})/.exec(stdout)!;
    const [, received] = /received\s+([0-9a-f]{64})/.exec(stdout)!;
    expect(received).toBe(source);
    expect(stdout).toMatch(/peak RSS\s+\d+ MiB/);
  });

  it('spreads the transfer over --lanes 2 peer connections', async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', 'scripts/run-ts.mjs', 'examples/demo.ts', '--size', '4MiB', '--lanes', '2'], {
      timeout: 60_000,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    expect(stdout).toMatch(/connected: 2 peer connection pair\(s\) over 127\.0\.0\.1/);
    expect(stdout).toMatch(/lanes 2/);
    expect(stdout).toMatch(/match\s+yes/);
  });

  it('sends a folder (nested, with an empty file and an empty folder) and a file in one session, each checked against its source', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tallow-demo-spec-'));
    try {
      await mkdir(join(dir, 'album', 'day 2'), { recursive: true });
      await mkdir(join(dir, 'album', 'empty'));
      await writeFile(join(dir, 'album', 'a.bin'), new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff));
      await writeFile(join(dir, 'album', 'day 2', 'b.txt'), 'second day\n');
      await writeFile(join(dir, 'album', 'day 2', 'zero'), '');
      await writeFile(join(dir, 'notes.txt'), 'a loose file\n');
      const { stdout } = await run(process.execPath, ['--expose-gc', 'scripts/run-ts.mjs', 'examples/demo.ts', join(dir, 'album'), join(dir, 'notes.txt')], {
        timeout: 60_000,
        env: { ...process.env, FORCE_COLOR: '0' },
      });
      expect(stdout).toMatch(/sending 4 file\(s\), .*, and 3 folder\(s\)/);
      expect(stdout).toMatch(/files\s+4 of 4 .*folders 3 of 3 recreated/);
      for (const name of ['album/a.bin', 'album/day 2/b.txt', 'album/day 2/zero', 'notes.txt']) expect(stdout).toMatch(new RegExp(`✓ [0-9a-f]{16}… ${name}`));
      expect(stdout).toMatch(/match\s+yes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
