/**
 * The command line and the web page talk to each other (fixtures/cliPageRunner.ts, real Chromium
 * and real CLI processes in one loopback-only namespace): page → terminal and terminal → page, both
 * verified (the sender's exit 0 means the receiver confirmed every SHA-256).
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_EXECUTABLE, spawnChromiumRunner, type SpawnedChromiumRunner } from '../harness/chromium';

const hasChromium = existsSync(CHROMIUM_EXECUTABLE);
const skip = !hasChromium && !process.env.CI;
if (skip) console.warn(`test/cli/cliPage.chromium skipped: ${CHROMIUM_EXECUTABLE} not found; with CI set this fails instead`);

let runner: SpawnedChromiumRunner | undefined;
afterAll(() => runner?.close());

describe.skipIf(skip)('tallow-rx and the web page', () => {
  it('page → terminal and terminal → page, verified', async () => {
    runner = await spawnChromiumRunner(new URL('./fixtures/cliPageRunner.ts', import.meta.url), { timeoutMs: 90_000 });
    const r = (await runner.result) as any;
    expect(r.pageToTerminal, r.pageToTerminal.output).toMatchObject({ exit: 0, saved: r.pageToTerminal.expected });
    expect(r.pageToTerminal.output).toMatch(/SAS \d{3} \d{3}/);
    expect(r.terminalToPage, r.terminalToPage.output).toMatchObject({ exit: 0 });
    expect(r.terminalToPage.output).toMatch(/verified 1 file, 2\.0 MiB/);
  }, 180_000);
});
