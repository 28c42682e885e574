/**
 * The rendezvous with real Chromium pages (two harness pages in a loopback-only namespace; the
 * scenarios are in fixtures/roomRunner.ts):
 * - Redis, two instances: a page waits on instance 1, which is SIGKILLed; the page resumes on
 *   instance 2 with the same room and code; a second page joins by code through a restarted
 *   instance 1; 8 MiB cross with equal SHA-256.
 * - TURN: coturn on 127.0.0.1 hands out REST-API credentials; both pages relay-only: 16 MiB cross
 *   with equal SHA-256 and every selected candidate pair is relay ↔ relay. The same pages then
 *   move 16 MiB directly (host ↔ host), for docs/benchmarks.md's "Relayed" table.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM_EXECUTABLE, spawnChromiumRunner, type SpawnedChromiumRunner } from '../harness/chromium';

const hasChromium = existsSync(CHROMIUM_EXECUTABLE);
const skip = !hasChromium && !process.env.CI;
if (skip) console.warn(`test/server/rendezvous.chromium skipped: ${CHROMIUM_EXECUTABLE} not found; with CI set this fails instead`);

let runner: SpawnedChromiumRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

const run = async (scenario: 'redis' | 'turn'): Promise<any> => {
  runner = await spawnChromiumRunner(new URL('./fixtures/roomRunner.ts', import.meta.url), { bundles: { room: 'test/server/fixtures/roomPage.ts' }, args: { scenario }, timeoutMs: 90_000 });
  return runner.result;
};

describe.skipIf(skip)('rendezvous in Chromium', () => {
  it('Redis: a waiting room survives SIGKILL of its instance; pages on two instances pair by code and transfer', async () => {
    const r = await run('redis');
    expect(r.waiting).toMatchObject({ kind: 'waiting', room: 'e2e-redis', code: expect.stringMatching(/^[2-9A-HJKMNP-Z]{6}$/) });
    expect(r.dropped).toMatch(/closed the connection/);
    expect(r.resumed).toEqual(r.waiting);
    expect(r.joinedB).toEqual({ kind: 'paired' });
    expect(r.lanes).toBe(2);
    expect(r.got).toEqual({ sha256: r.sent.sha256, bytes: 8 * 1024 * 1024 });
  }, 180_000);

  it('TURN: relay-only pages move 16 MiB through coturn (relay ↔ relay pairs); direct for comparison', async () => {
    const r = await run('turn');
    console.info(`[rendezvous chromium] 16 MiB relayed ${r.relayed.sent.seconds.toFixed(2)} s, direct ${r.direct.sent.seconds.toFixed(2)} s`);
    expect(r.relayed.iceServers).toBe(1);
    expect(r.relayed.got.sha256).toBe(r.relayed.sent.sha256);
    for (const side of [r.relayed.pairs.a, r.relayed.pairs.b]) {
      for (const pair of side) expect(pair).toMatchObject({ local: { candidateType: 'relay' }, remote: { candidateType: 'relay' } });
    }
    expect(r.direct.got.sha256).toBe(r.direct.sent.sha256);
    for (const pair of r.direct.pairs.a) expect(pair.local.candidateType).toBe('host');
  }, 120_000);
});
