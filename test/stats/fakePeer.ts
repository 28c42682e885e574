/** A scriptable `PeerConnectionLike` whose `getStats()` answers synchronously, so it runs under `TestScheduler`. */
import type { StatsReportLike } from '../../src/stats/parseStatsReport';
import type { PeerConnectionLike } from '../../src/types';

/** What one `getStats()` call does: answer a report, reject, throw, or stay pending until `resolve` is called. */
export type Answer = StatsReportLike | { reject: unknown } | { throw: unknown } | 'pending';

export interface FakePeer extends PeerConnectionLike {
  /** getStats() calls so far. */
  calls: number;
  connectionState: string;
  /** Resolves the pending call (if any) with `report`. */
  resolve(report: StatsReportLike): void;
}

/** A thenable that settles synchronously inside `then`, unlike a Promise. */
const syncThenable = (settle: (ok: (r: StatsReportLike) => void, fail: (e: unknown) => void) => void) => ({
  then: (ok: (r: StatsReportLike) => void, fail: (e: unknown) => void) => settle(ok, fail),
});

export function fakePeer(answer: (call: number) => Answer): FakePeer {
  let pending: ((r: StatsReportLike) => void) | undefined;
  const pc: FakePeer = {
    calls: 0,
    connectionState: 'connected',
    resolve: (report) => {
      const p = pending;
      pending = undefined;
      p?.(report);
    },
    getStats: (() => {
      const a = answer(++pc.calls);
      if (a && typeof a === 'object' && 'throw' in a) throw a.throw;
      return syncThenable((ok, fail) => {
        if (a === 'pending') pending = ok;
        else if ('reject' in a) fail(a.reject);
        else ok(a);
      });
    }) as any,
    createDataChannel: () => {
      throw new Error('not used');
    },
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    close: () => undefined,
  };
  return pc;
}

/** A node-datachannel-shaped report: cumulative bytes and an integer RTT in ms. */
export const ndcReport = (bytesSent: number, rttMs: number, bytesReceived = 0): StatsReportLike =>
  new Map<string, unknown>([
    ['RTCIceCandidatePair_x', { id: 'RTCIceCandidatePair_x', type: 'candidate-pair', state: 'succeeded', nominated: true, bytesSent, bytesReceived, currentRoundTripTime: rttMs, totalRoundTripTime: rttMs }],
    ['RTCTransport_0_1', { id: 'RTCTransport_0_1', type: 'transport', bytesSent, bytesReceived, selectedCandidatePairId: 'RTCIceCandidatePair_x' }],
  ]);

/** A Chromium-shaped report: RTT in seconds, pair packet counters with send discards, one data channel. */
export const chromiumReport = (o: { bytesSent: number; rttS: number; packetsSent: number; discarded: number; payload: number }): StatsReportLike =>
  new Map<string, unknown>([
    ['CP1', { id: 'CP1', type: 'candidate-pair', state: 'succeeded', nominated: true, responsesReceived: 5, currentRoundTripTime: o.rttS, packetsSent: o.packetsSent, packetsDiscardedOnSend: o.discarded, bytesSent: o.bytesSent, bytesReceived: 0 }],
    ['T01', { id: 'T01', type: 'transport', bytesSent: o.bytesSent, bytesReceived: 0, packetsSent: o.packetsSent + o.discarded, selectedCandidatePairId: 'CP1' }],
    ['D1', { id: 'D1', type: 'data-channel', label: 'data-0', state: 'open', bytesSent: o.payload, bytesReceived: 0, messagesSent: 1, messagesReceived: 0 }],
  ]);
