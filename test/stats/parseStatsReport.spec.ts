import { describe, expect, it } from 'vitest';
import { parseStatsReport } from '../../src/stats/parseStatsReport';
import { chromiumReceiver, chromiumSender } from './fixtures/chromiumReport';
import { ndcBefore, ndcClosed, ndcConnected, ndcReceiver, ndcSender } from './fixtures/nodeDatachannelReport';

const report = (entries: ReadonlyArray<[string, unknown]>) => new Map(entries);

describe('parseStatsReport', () => {
  describe('Chromium 156 (recorded)', () => {
    it('reads the sender: transport bytes, pair packets, discarded packets, data-channel payload, RTT in seconds', () => {
      const s = parseStatsReport(report(chromiumSender), 42)!;
      expect(s).toMatchObject({
        timestamp: 42,
        rttMs: 0,
        rttSource: 'candidate-pair',
        bytesSent: 11_928_264,
        bytesReceived: 660_248,
        bytesSource: 'transport',
        payloadBytesSent: 6_553_600,
        payloadBytesReceived: 0,
        packetsSent: 10_723,
        packetsReceived: 8586,
        packetsDiscardedOnSend: 5017,
        selectedPairId: 'CPwxFpc0nr_28km54dl',
      });
      expect(s.dataChannels).toEqual([
        { label: 'data-0', state: 'open', bytesSent: 6_553_600, bytesReceived: 0, messagesSent: 100, messagesReceived: 0 },
      ]);
      expect(s.packetsLost).toBeUndefined();
      expect(s.retransmissions).toBeUndefined();
      expect(s.sctp).toBeUndefined();
    });

    it('converts the receiver RTT of 0.001 s to 1 ms', () => {
      const s = parseStatsReport(report(chromiumReceiver), 0)!;
      expect(s.rttMs).toBeCloseTo(1, 9);
      expect(s.bytesReceived).toBe(11_928_264);
      expect(s.payloadBytesReceived).toBe(6_553_600);
    });
  });

  describe('node-datachannel 0.33 polyfill (recorded)', () => {
    it('reads the sender: payload bytes, RTT already in ms, no packet or channel stats', () => {
      const s = parseStatsReport(report(ndcSender), 7)!;
      expect(s).toMatchObject({ timestamp: 7, rttMs: 3, rttSource: 'candidate-pair', bytesSent: 13_107_200, bytesReceived: 0, bytesSource: 'transport' });
      expect(s.packetsSent).toBeUndefined();
      expect(s.packetsDiscardedOnSend).toBeUndefined();
      expect(s.payloadBytesSent).toBeUndefined();
      expect(s.dataChannels).toEqual([]);
    });

    it('reads the receiver and a fresh connection', () => {
      expect(parseStatsReport(report(ndcReceiver), 0)).toMatchObject({ rttMs: 0, bytesReceived: 13_107_200, bytesSent: 0 });
      expect(parseStatsReport(report(ndcConnected), 0)).toMatchObject({ rttMs: 0, bytesReceived: 0, bytesSent: 0 });
    });

    it('returns undefined for the empty reports before connecting and after close', () => {
      expect(parseStatsReport(report(ndcBefore), 0)).toBeUndefined();
      expect(parseStatsReport(report(ndcClosed), 0)).toBeUndefined();
    });

    it("treats libdatachannel's -1 as unknown", () => {
      const s = parseStatsReport(
        report([['p', { type: 'candidate-pair', state: 'succeeded', nominated: true, bytesSent: 1, bytesReceived: 2, currentRoundTripTime: -1, totalRoundTripTime: -1 }]]),
        0,
      )!;
      expect(s.rttMs).toBeUndefined();
      expect(s.bytesSource).toBe('candidate-pair');
    });
  });

  describe('RTT units', () => {
    const pair = (extra: object) => report([['p', { type: 'candidate-pair', state: 'succeeded', nominated: true, bytesSent: 0, ...extra }]]);
    it.each([
      ['spec shape (responsesReceived), integer', { currentRoundTripTime: 2, responsesReceived: 3 }, 'auto', 2000],
      ['no responsesReceived, integer: node-datachannel ms', { currentRoundTripTime: 2 }, 'auto', 2],
      ['no responsesReceived, fraction: seconds', { currentRoundTripTime: 0.025 }, 'auto', 25],
      ['forced seconds', { currentRoundTripTime: 2 }, 'seconds', 2000],
      ['forced milliseconds', { currentRoundTripTime: 0.5, responsesReceived: 1 }, 'milliseconds', 0.5],
      ['no current: total / responses (Firefox-like)', { totalRoundTripTime: 0.3, responsesReceived: 10 }, 'auto', 30],
    ] as const)('%s', (_name, extra, unit, ms) => {
      expect(parseStatsReport(pair(extra), 0, unit)!.rttMs).toBeCloseTo(ms, 9);
    });

    it('falls back to the SCTP smoothed RTT', () => {
      const s = parseStatsReport(
        report([
          ['t', { type: 'transport', bytesSent: 10, bytesReceived: 20 }],
          ['s', { type: 'sctp-transport', smoothedRoundTripTime: 0.04, congestionWindow: 4380, receiverWindow: 131072, mtu: 1200, unackData: 3 }],
        ]),
        0,
      )!;
      expect(s.rttMs).toBeCloseTo(40, 9);
      expect(s.rttSource).toBe('sctp');
      expect(s.sctp).toEqual({ smoothedRttMs: 40, congestionWindow: 4380, receiverWindow: 131072, mtu: 1200, unackData: 3 });
    });
  });

  describe('tolerance', () => {
    it('picks the pair named by the transport over other succeeded pairs', () => {
      const s = parseStatsReport(
        report([
          ['a', { id: 'a', type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: 0.5, responsesReceived: 1 }],
          ['b', { id: 'b', type: 'candidate-pair', state: 'succeeded', currentRoundTripTime: 0.01, responsesReceived: 1 }],
          ['t', { id: 't', type: 'transport', bytesSent: 1, bytesReceived: 1, selectedCandidatePairId: 'b' }],
        ]),
        0,
      )!;
      expect(s.rttMs).toBeCloseTo(10, 9);
      expect(s.selectedPairId).toBe('b');
    });

    it("honours Firefox's selected flag, and ignores failed pairs", () => {
      const s = parseStatsReport(
        report([
          ['x', { id: 'x', type: 'candidate-pair', state: 'failed', currentRoundTripTime: 9, responsesReceived: 1, bytesSent: 5 }],
          ['y', { id: 'y', type: 'candidate-pair', state: 'succeeded', selected: true, currentRoundTripTime: 0.02, responsesReceived: 1, bytesSent: 6 }],
        ]),
        0,
      )!;
      expect(s.selectedPairId).toBe('y');
      expect(s.bytesSent).toBe(6);
    });

    it('ignores junk entries and wrongly typed fields', () => {
      const s = parseStatsReport(
        report([
          ['n', null],
          ['s', 'string'],
          ['u', { type: 42 }],
          ['t', { type: 'transport', bytesSent: '12', bytesReceived: NaN }],
          ['d', { type: 'data-channel', label: 5, bytesSent: -3, messagesSent: Infinity }],
          ['p', { type: 'candidate-pair', state: 'succeeded', currentRoundTripTime: 'fast', packetsSent: -1 }],
        ]),
        0,
      )!;
      expect(s.bytesSource).toBe('data-channel');
      expect(s.bytesSent).toBe(0);
      expect(s.rttMs).toBeUndefined();
      expect(s.packetsSent).toBeUndefined();
      expect(s.dataChannels).toEqual([{ label: '', state: undefined, bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 }]);
    });

    it('sums RTP loss and retransmission counters where media exists', () => {
      const s = parseStatsReport(
        report([
          ['t', { type: 'transport', bytesSent: 1, bytesReceived: 1 }],
          ['o1', { type: 'outbound-rtp', packetsSent: 100, retransmittedPacketsSent: 3 }],
          ['o2', { type: 'outbound-rtp', packetsSent: 50 }],
          ['r1', { type: 'remote-inbound-rtp', packetsLost: 4 }],
        ]),
        0,
      )!;
      expect(s).toMatchObject({ rtpPacketsSent: 150, retransmissions: 3, packetsLost: 4 });
    });

    it('works with any forEach-able, not only Map', () => {
      const like = { forEach: (cb: (v: unknown, k: string) => void) => cb({ type: 'transport', bytesSent: 3, bytesReceived: 4 }, 't') };
      expect(parseStatsReport(like, 0)).toMatchObject({ bytesSent: 3, bytesReceived: 4 });
    });
  });
});
