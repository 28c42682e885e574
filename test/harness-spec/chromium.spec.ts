import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnChromiumRunner, type SpawnedChromiumRunner } from '../harness/chromium';
import { patternBytes } from '../harness/pump';
import { spawnScript, stopScript, type SpawnedScript } from '../harness/spawnScript';
import { CHROMIUM_RUNNER_SCRIPT } from '../harness/chromium';
import { sha256Hex as sha256 } from '../helpers/sha256';

const fixture = (name: string): URL => new URL(`./fixtures/${name}.ts`, import.meta.url);

/** True while `pid` exists and is not a zombie. */
const isRunning = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const waitUntilGone = async (pids: number[], timeoutMs: number): Promise<number[]> => {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(isRunning);
};

describe('Chromium harness (runner in a loopback-only network namespace)', () => {
  // Runners started here; afterAll stops them by PID whatever happened.
  const runners: SpawnedChromiumRunner[] = [];
  const scripts: SpawnedScript[] = [];
  afterAll(async () => {
    await Promise.all([...runners.map((r) => r.close()), ...scripts.map((s) => stopScript(s, 2_000))]);
  }, 60_000);

  it('moves 4 MiB Chromium → Chromium and 4 MiB Chromium → Node intact over 127.0.0.1', async () => {
    const bytes = 4 * 1024 * 1024;
    const runner = await spawnChromiumRunner(fixture('chromiumTransfers'), {
      bundles: { tiny: 'test/harness/page/tinyLibrary.ts' },
      args: { bytes, seeds: [11, 12] },
    });
    runners.push(runner);
    const r = (await runner.result) as any;

    expect(r.tiny).toBe(12);

    const expectedA = sha256(patternBytes(bytes, 11));
    expect(r.chromiumToChromium).toMatchObject({ sent: bytes, sentSha256: expectedA, received: bytes, receivedSha256: expectedA });
    expect(r.chromiumToChromium.pair.local.address).toBe('127.0.0.1');
    expect(r.chromiumToChromium.pair.remote.address).toBe('127.0.0.1');

    const expectedC = sha256(patternBytes(bytes, 12));
    expect(r.chromiumToNode).toMatchObject({ sent: bytes, sentSha256: expectedC, received: bytes, receivedSha256: expectedC });
    for (const end of [r.chromiumToNode.pairPage.local, r.chromiumToNode.pairPage.remote, r.chromiumToNode.pairNode.local, r.chromiumToNode.pairNode.remote]) {
      expect(end.address).toBe('127.0.0.1');
    }

    // Clean exit, and Chromium went with it.
    expect(r.runnerChildren.length).toBeGreaterThan(0);
    await runner.close();
    expect(await runner.exited).toEqual({ code: 0, signal: null });
    expect(await waitUntilGone(r.runnerChildren, 10_000)).toEqual([]);
  }, 120_000);

  it('SIGKILL of the runner takes Chromium down too', async () => {
    const runner = await spawnChromiumRunner(fixture('chromiumIdle'));
    runners.push(runner);
    const r = (await runner.result) as { runnerPid: number; children: number[]; title: string };
    expect(r.runnerPid).toBe(runner.pid);
    expect(r.title).toBe('tallow-rx harness');
    expect(r.children.filter(isRunning).length).toBeGreaterThan(0);
    runner.kill('SIGKILL');
    expect(await runner.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await waitUntilGone(r.children, 15_000)).toEqual([]);
  }, 60_000);

  it('the runner refuses to start outside a loopback-only namespace', async () => {
    const spawned = spawnScript(CHROMIUM_RUNNER_SCRIPT, [fixture('chromiumIdle').pathname, JSON.stringify({ bundles: {}, timeoutMs: 10_000 })]);
    scripts.push(spawned);
    const error = await new Promise<string>((resolve) => spawned.port.onMessage((e) => e.t === 'error' && resolve(e.message)));
    expect(error).toMatch(/loopback-only network namespace; found .*eth0/);
    expect((await spawned.exited).code).toBe(1);
  }, 30_000);
});
