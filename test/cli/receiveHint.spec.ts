/**
 * The line `send` prints for the other machine (src/cli/sendCommand.ts `receiveHint`): a new-user check ran it as
 * printed on a machine without `TALLOW_RX_SERVER` and reached the default server instead of theirs; and a bare
 * `npx tallow-rx` does not fetch node-datachannel, an optional peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { receiveHint } from '../../src/cli/sendCommand';
import { serverUrls } from '../../src/cli/serverUrls';

const saved = process.env.TALLOW_RX_SERVER;
afterEach(() => {
  if (saved === undefined) delete process.env.TALLOW_RX_SERVER;
  else process.env.TALLOW_RX_SERVER = saved;
});

describe('receiveHint', () => {
  it('names the server when it came from TALLOW_RX_SERVER', () => {
    process.env.TALLOW_RX_SERVER = 'http://127.0.0.1:18198';
    expect(receiveHint('XUKCN6', serverUrls(undefined).server)).toBe('npx -p tallow-rx -p rxjs -p node-datachannel tallow-rx receive XUK-CN6 --server http://127.0.0.1:18198');
  });

  it('names the server given with --server, and none for the default', () => {
    delete process.env.TALLOW_RX_SERVER;
    expect(receiveHint('XUKCN6', serverUrls('https://send.example.org').server)).toMatch(/receive XUK-CN6 --server https:\/\/send\.example\.org$/);
    expect(receiveHint('XUKCN6', serverUrls(undefined).server)).toMatch(/receive XUK-CN6$/);
  });
});
