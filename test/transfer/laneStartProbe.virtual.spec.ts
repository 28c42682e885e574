/**
 * `auto`'s start lanes hang on the probed RTT (5 ms or more: a path worth lanes). A busy CPU makes a LAN's
 * probe read that much (Chromium's STUN round trip on two loaded pages of one machine said 5 ms and a page-to-
 * page run opened 8 lanes). The sender checks such a probe with a control ping at once and takes the lower.
 * Jitter makes a real path's single probe read low (4 ms on an 8 ms path): a low probe that the pong
 * contradicts gives the mean of the two (src/transfer/startRttMs.ts). Whole sessions in virtual time; the
 * given connection's stats are made to say what each case needs.
 */
import { filter, last, map, merge, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { createVirtualNetwork, type VirtualNetworkConfig } from '../../src/testing';
import { testScheduler } from '../helpers/marbles';

const FILE = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => (i * 7) % 253);

const ended = (events$: Observable<SessionEvent>) =>
  events$.pipe(
    filter((e) => e.type === 'completed'),
    last(),
    map(() => true),
  );

/**
 * One session over `network`; the given connection's `getStats` reports `statsRttMs` when set (`0-first`: 0 ms
 * on the first read, the path's own after, as node-datachannel before usrsctp measured an RTT). Returns the
 * lanes the network carried.
 */
function lanesUsed(network: VirtualNetworkConfig, statsRttMs?: number | 'none' | '0-first', laneController?: { startLanes: number }): { lanes: number; completed: number } {
  const scheduler = testScheduler();
  let lanes = 0;
  let completed = 0;
  scheduler.run(() => {
    const net = createVirtualNetwork({ ...network, scheduler });
    const given = net.createLink();
    if (statsRttMs !== undefined) {
      const real = given.a.getStats.bind(given.a);
      let reads = 0;
      given.a.getStats = () =>
        real().then((report) => {
          if (statsRttMs === '0-first' && reads++ > 0) return report;
          for (const stat of report.values()) if (stat.type === 'candidate-pair') stat.currentRoundTripTime = statsRttMs === 'none' ? undefined : statsRttMs === '0-first' ? 0 : statsRttMs / 1000;
          return report;
        });
    }
    const createConnection = net.createConnection;
    merge(ended(receiveFiles(given.b, { scheduler, createConnection })), ended(sendFiles(given.a, [FILE], { scheduler, createConnection, laneStaggerMs: 100, ...(laneController ? { laneController } : {}) }))).subscribe({
      next: () => completed++,
      complete: () => {
        lanes = net.stats().lanes.length;
        net.close();
      },
    });
  });
  return { lanes, completed };
}

describe("auto's start lanes and the probed RTT", () => {
  const LAN: VirtualNetworkConfig = { rateBytesPerSecond: 50_000_000, queueBytes: 256 * 1024, delayMs: 0.5, lossRate: 0 };

  it('a LAN whose probe reads 8 ms (a busy CPU) opens no lane: the first ping says 1 ms', () => {
    expect(lanesUsed(LAN, 8)).toEqual({ lanes: 1, completed: 2 });
  });

  it('a probe that comes back without an RTT: the ping measures the path, and a 20 ms path opens the start lanes', () => {
    expect(lanesUsed({ ...LAN, delayMs: 10 }, 'none').lanes).toBeGreaterThanOrEqual(8);
    expect(lanesUsed(LAN, 'none')).toEqual({ lanes: 1, completed: 2 });
  });

  it('a path whose pings agree with its 8 ms probe still opens the start lanes', () => {
    expect(lanesUsed({ ...LAN, delayMs: 4 }).lanes).toBeGreaterThanOrEqual(8);
  });

  it('a 20 ms path whose probe reads 4 ms (jitter) is not a LAN: the pong contradicts it, and the start lanes open', () => {
    expect(lanesUsed({ ...LAN, delayMs: 10 }, 4).lanes).toBeGreaterThanOrEqual(8);
  });

  it('a probe that reads 0 ms (no RTT measured yet) is read again after the pong: a 20 ms path opens the start lanes, a LAN none', () => {
    expect(lanesUsed({ ...LAN, delayMs: 10 }, '0-first').lanes).toBeGreaterThanOrEqual(8);
    expect(lanesUsed(LAN, '0-first')).toEqual({ lanes: 1, completed: 2 });
  });

  it('a path of 100 ms or more starts with every lane the receiver took (15), a shorter one with 8; an app\'s startLanes is kept', () => {
    expect(lanesUsed({ ...LAN, delayMs: 60 }).lanes).toBe(16);
    expect(lanesUsed({ ...LAN, delayMs: 40 }).lanes).toBe(9);
    expect(lanesUsed({ ...LAN, delayMs: 60 }, undefined, { startLanes: 4 }).lanes).toBe(5);
  });

  it('a LAN whose probe reads 4 ms opens no lane (the pong says 1 ms), nor one whose probe reads 1 ms (no ping needed)', () => {
    expect(lanesUsed(LAN, 4)).toEqual({ lanes: 1, completed: 2 });
    expect(lanesUsed({ ...LAN, delayMs: 10 }, 1)).toEqual({ lanes: 1, completed: 2 });
  });
});
