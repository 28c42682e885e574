/**
 * The README's first command keeps working: the demo runs a real transfer
 * (node-datachannel on 127.0.0.1) and reports a SHA-256 match.
 */
import { execFile } from 'node:child_process';
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
});
