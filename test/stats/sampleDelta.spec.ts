import { describe, expect, it } from 'vitest';
import { parseStatsReport, type PeerStatsSample } from '../../src/stats/parseStatsReport';
import { sampleDelta } from '../../src/stats/sampleDelta';
import { ndcConnected, ndcSender } from './fixtures/nodeDatachannelReport';

const s = (timestamp: number, extra: Partial<PeerStatsSample> = {}): PeerStatsSample => ({
  timestamp,
  bytesSent: 0,
  bytesReceived: 0,
  bytesSource: 'transport',
  dataChannels: [],
  ...extra,
});

describe('sampleDelta', () => {
  it.each([
    ['bytes → bits/s', s(0, { bytesSent: 1000, bytesReceived: 10 }), s(500, { bytesSent: 126_000, bytesReceived: 510 }), { intervalMs: 500, bytesSent: 125_000, sendBps: 2_000_000, receiveBps: 8000 }],
    ['payload rates from data-channel sums', s(0, { payloadBytesSent: 0 }), s(1000, { payloadBytesSent: 1000 }), { payloadSendBps: 8000, payloadReceiveBps: undefined }],
    ['a counter that went backwards is a reset: no rate', s(0, { bytesSent: 500 }), s(1000, { bytesSent: 100 }), { bytesSent: undefined, sendBps: undefined, receiveBps: 0 }],
    ['a changed byte source is not comparable', s(0, { bytesSent: 5 }), s(1000, { bytesSent: 9, bytesSource: 'candidate-pair' }), { sendBps: undefined, receiveBps: undefined }],
    ['zero-length interval: no rate', s(1000, { bytesSent: 1 }), s(1000, { bytesSent: 2 }), { intervalMs: 0, bytesSent: 1, sendBps: undefined }],
  ] as const)('%s', (_name, a, b, expected) => {
    expect(sampleDelta(a, b)).toMatchObject(expected);
  });

  describe('loss from deltas, never cumulative', () => {
    it.each([
      [
        'RTP packetsLost over packets sent in the interval',
        s(0, { packetsLost: 100, rtpPacketsSent: 10_000, retransmissions: 0 }),
        s(1000, { packetsLost: 105, rtpPacketsSent: 10_500, retransmissions: 50 }),
        0.01,
        'packets-lost',
      ],
      ['retransmissions when no loss counter', s(0, { retransmissions: 10, rtpPacketsSent: 100 }), s(1000, { retransmissions: 12, rtpPacketsSent: 300 }), 0.01, 'retransmissions'],
      [
        'Chromium: discarded on send over attempts (pair packetsSent + discarded)',
        s(0, { packetsSent: 1000, packetsDiscardedOnSend: 900 }),
        s(1000, { packetsSent: 1300, packetsDiscardedOnSend: 1000 }),
        0.25,
        'discarded-on-send',
      ],
      ['a large cumulative count but nothing new: 0, not the cumulative ratio', s(0, { packetsSent: 100, packetsDiscardedOnSend: 5000 }), s(1000, { packetsSent: 200, packetsDiscardedOnSend: 5000 }), 0, 'discarded-on-send'],
      ['nothing sent in the interval: undefined', s(0, { packetsSent: 100, packetsDiscardedOnSend: 5 }), s(1000, { packetsSent: 100, packetsDiscardedOnSend: 5 }), undefined, undefined],
      ['counter reset: undefined', s(0, { packetsSent: 100, packetsDiscardedOnSend: 5 }), s(1000, { packetsSent: 10, packetsDiscardedOnSend: 0 }), undefined, undefined],
      ['no counters at all (node-datachannel): undefined', s(0), s(1000), undefined, undefined],
    ] as const)('%s', (_name, a, b, rate, source) => {
      const d = sampleDelta(a, b);
      if (rate === undefined) expect(d.lossRate).toBeUndefined();
      else expect(d.lossRate).toBeCloseTo(rate, 12);
      expect(d.lossSource).toBe(source);
    });
  });

  it('node-datachannel recorded reports: payload rate, no loss', () => {
    const a = parseStatsReport(new Map(ndcConnected), 0)!;
    const b = parseStatsReport(new Map(ndcSender), 1000)!;
    const d = sampleDelta(a, b);
    expect(d.sendBps).toBe(13_107_200 * 8);
    expect(d.lossRate).toBeUndefined();
  });
});
