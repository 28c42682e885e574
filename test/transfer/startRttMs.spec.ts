/** The RTT the start lanes hang on, from auto's probe and the first pongs: the table of src/transfer/startRttMs.ts. */
import { describe, expect, it } from 'vitest';
import { LAN_PROBE_MS, startRttMs } from '../../src/transfer/startRttMs';

describe('startRttMs', () => {
  it.each<[number | undefined, number | undefined, number | undefined, string]>([
    [undefined, undefined, undefined, 'neither reading'],
    [undefined, Infinity, undefined, 'no pong yet (Infinity) and no probe'],
    [undefined, 12, 12, 'no probe: the pong'],
    [7, undefined, 7, 'no pong yet: the probe'],
    [7, Infinity, 7, 'no pong yet (Infinity): the probe'],
    [8, 1, 1, 'a high probe on a busy LAN: the lower'],
    [8, 20, 8, 'a high probe, a slower pong: the lower'],
    [4, 9, 6.5, 'a low probe that the pong contradicts: the mean'],
    [2, 40, 21, 'the lowest probe that can be jitter'],
    [4, 4.9, 4, 'a low probe that the pong does not contradict'],
    [1.9, 40, 1.9, "below LAN_PROBE_MS: a LAN's, whatever the pong"],
    [0, 9, 0, 'zero: a LAN'],
  ])('probe %s, pong %s → %s (%s)', (probe, pong, expected, _why) => {
    expect(startRttMs(probe, pong)).toBe(expected);
  });

  it('LAN_PROBE_MS is below the 5 ms that makes a path worth lanes', () => {
    expect(LAN_PROBE_MS).toBe(2);
  });
});
