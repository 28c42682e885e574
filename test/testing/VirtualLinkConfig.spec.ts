import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import type { VirtualLinkConfig } from '../../src/testing';
import { resolveVirtualLinkConfig } from '../../src/testing/VirtualLinkConfig';
import { testScheduler } from '../helpers/marbles';

describe('resolveVirtualLinkConfig', () => {
  it('fills in the documented defaults', () => {
    const c = resolveVirtualLinkConfig();
    expect(c).toMatchObject({
      scheduler: asyncScheduler,
      bandwidth: Infinity,
      delayMs: 0,
      jitterMs: 0,
      lossRate: 0,
      reorder: 0,
      reorderDelayMs: 1,
      duplicate: 0,
      corrupt: 0,
      maxMessageSize: 262_144,
      sendQueueLimit: 16 * 1024 * 1024,
      openDelayMs: 0,
      seed: 1,
    });
    expect(resolveVirtualLinkConfig({ delayMs: 30 }).reorderDelayMs).toBe(31);
    expect(resolveVirtualLinkConfig().faultFilter({} as any)).toBe(true);
    const a = resolveVirtualLinkConfig().random;
    const b = resolveVirtualLinkConfig({ seed: 1 }).random;
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('keeps given values, including a TestScheduler, a custom random and an unlimited send queue', () => {
    const scheduler = testScheduler();
    const random = () => 0.5;
    const c = resolveVirtualLinkConfig({ scheduler, random, sendQueueLimit: Infinity, bandwidth: 5, lossRate: 1 });
    expect(c.scheduler).toBe(scheduler);
    expect(c.random).toBe(random);
    expect(c.sendQueueLimit).toBe(Infinity);
    expect(c.bandwidth).toBe(5);
    expect(c.lossRate).toBe(1);
  });

  const bad: [string, VirtualLinkConfig][] = [
    ['scheduler', { scheduler: {} as any }],
    ['bandwidth', { bandwidth: 0 }],
    ['bandwidth', { bandwidth: -5 }],
    ['bandwidth', { bandwidth: NaN }],
    ['delayMs', { delayMs: -1 }],
    ['delayMs', { delayMs: Infinity }],
    ['jitterMs', { jitterMs: -1 }],
    ['lossRate', { lossRate: 1.5 }],
    ['lossRate', { lossRate: -0.1 }],
    ['lossRate', { lossRate: NaN }],
    ['reorder', { reorder: 2 }],
    ['reorderDelayMs', { reorderDelayMs: -3 }],
    ['duplicate', { duplicate: -1 }],
    ['corrupt', { corrupt: 1.01 }],
    ['maxMessageSize', { maxMessageSize: 0 }],
    ['maxMessageSize', { maxMessageSize: 10.5 }],
    ['maxMessageSize', { maxMessageSize: Infinity }],
    ['sendQueueLimit', { sendQueueLimit: 0 }],
    ['openDelayMs', { openDelayMs: -1 }],
    ['seed', { seed: NaN }],
    ['random', { random: 3 as any }],
    ['faultFilter', { faultFilter: 'data' as any }],
  ];

  it.each(bad)('rejects a bad %s with InvalidConfigError naming it', (field, config) => {
    let error: any;
    try {
      resolveVirtualLinkConfig(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error.code).toBe('ERR_INVALID_CONFIG');
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
  });
});
