/**
 * The README's browser signalling recipe (one offer, one answer, candidates over any text channel,
 * an app channel before the offer, receiveFile subscribed before anything is connected) works on
 * libwebrtc (@roamhq/wrtc). Runs fixtures/browserRecipe.ts in a loopback-only network namespace,
 * because libwebrtc has no bind address (see fixtures/simplePeerScenario.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the README browser recipe, on @roamhq/wrtc', () => {
  it('connects over 127.0.0.1 and carries a file intact (SHA-256)', async () => {
    const node = [process.execPath, '--import', 'tsx', 'test/connect/fixtures/browserRecipe.ts'];
    const { stdout } = await run('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...node], { timeout: 30_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      answererBeforeOffer: 'new',
      sentSha: true,
      receivedSha: true,
      connected: ['connected', 'connected'],
      localAddresses: ['127.0.0.1', '127.0.0.1'],
    });
  });
});
