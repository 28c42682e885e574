/** What `--timeout` says it ran out on (src/cli/connectFlags.ts `timedOut`): the table of its three cases. */
import { describe, expect, it } from 'vitest';
import { timedOut } from '../../src/cli/connectFlags';

describe('timedOut', () => {
  const expiry = { code: 'ABCDEF', at: 600_000 };
  it.each([
    ['paired, connection not made', true, expiry, 10_000, /^the other side joined, but no connection was made within 5 s \(--timeout\)$/, 'connect-failed'],
    ['not paired, the code ran out with it (the defaults: 600 s and 10 min)', false, expiry, 599_500, /^the code ABC-DEF expired and nobody joined; run send again for a new code$/, 'code-expired'],
    ['not paired, the code still valid', false, expiry, 10_000, /^nobody joined within 5 s$/, undefined],
    ['receive (no code of its own), not paired', false, undefined, 10_000, /^nobody joined within 5 s$/, undefined],
  ] as const)('%s', (_, paired, exp, now, message, code) => {
    const error = timedOut(5000, paired, exp, now) as Error & { code?: string };
    expect(error.message).toMatch(message);
    expect(error.code).toBe(code);
  });
});
