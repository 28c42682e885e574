import { describe, expect, it } from 'vitest';
import { parseStatsReport, type RttUnit } from '../../src/stats/parseStatsReport';
import { reportRtt } from '../../src/stats/reportRtt';
import { chromiumReceiver, chromiumSender } from './fixtures/chromiumReport';
import { ndcConnected, ndcReceiver, ndcSender } from './fixtures/nodeDatachannelReport';

const report = (entries: ReadonlyArray<[string, unknown]>) => new Map(entries);
const pair = (extra: object) => ['p', { type: 'candidate-pair', state: 'succeeded', nominated: true, bytesSent: 0, ...extra }] as [string, unknown];

/** Reports with something to count bytes from, each with an RTT or deliberately without one. */
const REPORTS: Record<string, ReadonlyArray<[string, unknown]>> = {
  'Chromium sender (recorded)': chromiumSender,
  'Chromium receiver (recorded)': chromiumReceiver,
  'node-datachannel connected (recorded)': ndcConnected,
  'node-datachannel sender (recorded)': ndcSender,
  'node-datachannel receiver (recorded)': ndcReceiver,
  'spec shape, integer seconds': [pair({ currentRoundTripTime: 2, responsesReceived: 3 })],
  'no responsesReceived, integer: ms': [pair({ currentRoundTripTime: 2 })],
  'no responsesReceived, fraction: seconds': [pair({ currentRoundTripTime: 0.025 })],
  'total / responses': [pair({ totalRoundTripTime: 0.3, responsesReceived: 10 })],
  "libdatachannel's -1": [pair({ currentRoundTripTime: -1, totalRoundTripTime: -1, bytesReceived: 2 })],
  'SCTP fallback': [
    ['t', { type: 'transport', bytesSent: 10, bytesReceived: 20 }],
    ['s', { type: 'sctp-transport', smoothedRoundTripTime: 0.04 }],
  ],
  'pair named by the transport': [
    ['a', { id: 'a', type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: 0.5, responsesReceived: 1 }],
    ['b', { id: 'b', type: 'candidate-pair', state: 'succeeded', currentRoundTripTime: 0.01, responsesReceived: 1 }],
    ['t', { id: 't', type: 'transport', bytesSent: 1, bytesReceived: 1, selectedCandidatePairId: 'b' }],
  ],
  'junk entries': [
    ['n', null],
    ['u', { type: 42 }],
    ['d', { type: 'data-channel', label: 5, bytesSent: -3 }],
    ['p', { type: 'candidate-pair', state: 'succeeded', currentRoundTripTime: 'fast' }],
  ],
};

describe('reportRtt', () => {
  describe.each(['auto', 'seconds', 'milliseconds'] as RttUnit[])('unit %s: the RTT parseStatsReport reads, and its source', (unit) => {
    it.each(Object.keys(REPORTS))('%s', (name) => {
      const r = report(REPORTS[name]);
      const sample = parseStatsReport(r, 0, unit)!;
      expect(sample).toBeDefined();
      const rtt = reportRtt(r, unit);
      expect(rtt?.ms).toBe(sample.rttMs);
      expect(rtt?.source).toBe(sample.rttSource);
    });
  });

  it('reads a report that has an RTT but nothing to count bytes from, where parseStatsReport says undefined', () => {
    const r = report([['s', { type: 'sctp-transport', smoothedRoundTripTime: 0.05 }]]);
    expect(parseStatsReport(r, 0)).toBeUndefined();
    expect(reportRtt(r)).toEqual({ ms: 50, source: 'sctp' });
  });

  it('says undefined for an empty report', () => {
    expect(reportRtt(report([]))).toBeUndefined();
  });
});
