/**
 * `useSctpCongestionControl` (tallow-rx/node): the name maps to usrsctp's module number and reaches
 * node-datachannel's process-wide `setSctpSettings`; a bad name fails before anything is loaded.
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { useSctpCongestionControl, type SctpCongestionControl } from '../../src/node';

const recorder = () => {
  const calls: Array<{ congestionControlModule?: number }> = [];
  let loads = 0;
  const load = async () => {
    loads++;
    return { setSctpSettings: (s: { congestionControlModule?: number }) => void calls.push(s) };
  };
  return { calls, load, loads: () => loads };
};

describe('useSctpCongestionControl', () => {
  it.each([
    ['rfc2581', 0],
    ['hstcp', 1],
    ['htcp', 2],
    ['rtcc', 3],
  ] as const)('%s sets congestionControlModule %i', async (name, module) => {
    const r = recorder();
    await useSctpCongestionControl(name, { load: r.load });
    expect(r.calls).toEqual([{ congestionControlModule: module }]);
  });

  it('rejects an unknown name with InvalidConfigError, before loading node-datachannel', async () => {
    const r = recorder();
    await expect(useSctpCongestionControl('cubic' as SctpCongestionControl, { load: r.load })).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(useSctpCongestionControl('toString' as SctpCongestionControl, { load: r.load })).rejects.toBeInstanceOf(InvalidConfigError);
    expect(r.loads()).toBe(0);
    expect(r.calls).toEqual([]);
  });

  it('applies through the real node-datachannel (usrsctp\'s default here, so the rest of this process is unchanged)', async () => {
    // The native setter returns nothing observable; what this shows is that the default loader finds it.
    await expect(useSctpCongestionControl('rfc2581')).resolves.toBeUndefined();
  });
});
