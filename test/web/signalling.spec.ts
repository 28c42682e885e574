import { describe, expect, it } from 'vitest';
import { DEFAULT_LANES, filterSdpCandidates, isHostUdpCandidate, MAX_SIGNAL_BYTES, parseLanes, parseSignal } from '../../examples/web/signalling';

const HOST_LOOPBACK = 'candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0';
const HOST_MDNS = 'candidate:2 1 UDP 2113937151 3f1c9a6e-7d1b-4c5e-9a55-5b1f0f0b1234.local 50001 typ host';
const SRFLX = 'candidate:3 1 udp 1677729535 203.0.113.7 40000 typ srflx raddr 0.0.0.0 rport 0';
const RELAY = 'candidate:4 1 udp 41885439 198.51.100.2 3478 typ relay raddr 203.0.113.7 rport 40000';
const TCP_HOST = 'candidate:5 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active';

describe('isHostUdpCandidate', () => {
  it.each([
    [HOST_LOOPBACK, true],
    [`a=${HOST_LOOPBACK}`, true],
    [HOST_MDNS, true],
    [SRFLX, false],
    [RELAY, false],
    [TCP_HOST, false],
    ['', false],
    ['candidate:1 1 udp', false],
    ['garbage 1 udp 1 127.0.0.1 1 typ host', false],
  ])('%s → %s', (line, ok) => expect(isHostUdpCandidate(line)).toBe(ok));
});

describe('filterSdpCandidates', () => {
  it('drops non-host candidate lines and keeps everything else byte for byte', () => {
    const sdp = ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=${HOST_LOOPBACK}`, `a=${SRFLX}`, `a=${RELAY}`, 'a=sctp-port:5000', ''].join('\r\n');
    expect(filterSdpCandidates(sdp)).toBe(['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=${HOST_LOOPBACK}`, 'a=sctp-port:5000', ''].join('\r\n'));
  });
});

describe('candidate policy with TURN', () => {
  it('relay candidates pass only when the policy allows them; srflx and TCP host never', () => {
    const json = (line: string) => JSON.stringify({ type: 'signal', lane: 0, candidate: { candidate: line, sdpMid: '0', sdpMLineIndex: 0 } });
    expect(parseSignal(json(RELAY), 1)).toBeUndefined();
    expect(parseSignal(json(RELAY), 1, { relay: true })).toMatchObject({ candidate: { candidate: RELAY } });
    expect(parseSignal(json(SRFLX), 1, { relay: true })).toBeUndefined();
    expect(parseSignal(json(TCP_HOST), 1, { relay: true })).toBeUndefined();
    const sdp = ['v=0', `a=${HOST_LOOPBACK}`, `a=${SRFLX}`, `a=${RELAY}`, ''].join('\r\n');
    expect(filterSdpCandidates(sdp, { relay: true })).toBe(['v=0', `a=${HOST_LOOPBACK}`, `a=${RELAY}`, ''].join('\r\n'));
  });
});

describe('parseLanes', () => {
  it.each([
    ['1', 1],
    ['4', 4],
    ['0', DEFAULT_LANES],
    ['5', DEFAULT_LANES],
    ['1.5', DEFAULT_LANES],
    ['x', DEFAULT_LANES],
    [null, DEFAULT_LANES],
  ])('%s → %d', (value, lanes) => expect(parseLanes(value)).toBe(lanes));
});

describe('parseSignal', () => {
  const json = (x: unknown) => JSON.stringify(x);

  it('relays a description with non-host candidates removed from its SDP', () => {
    const sdp = `v=0\r\na=${HOST_LOOPBACK}\r\na=${SRFLX}\r\n`;
    expect(parseSignal(json({ type: 'signal', lane: 1, description: { type: 'offer', sdp } }), 2)).toEqual({
      type: 'signal',
      lane: 1,
      description: { type: 'offer', sdp: `v=0\r\na=${HOST_LOOPBACK}\r\n` },
    });
  });

  it('relays a host candidate, normalised, and drops the rest', () => {
    expect(parseSignal(json({ type: 'signal', lane: 0, candidate: { candidate: `a=${HOST_LOOPBACK}`, sdpMid: '0', sdpMLineIndex: 0 } }), 1)).toEqual({
      type: 'signal',
      lane: 0,
      candidate: { candidate: HOST_LOOPBACK, sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(parseSignal(json({ type: 'signal', lane: 0, candidate: { candidate: SRFLX, sdpMid: '0', sdpMLineIndex: 0 } }), 1)).toBeUndefined();
    expect(parseSignal(json({ type: 'signal', lane: 0, candidate: { candidate: HOST_MDNS, sdpMid: 7, sdpMLineIndex: 'x' } }), 1)).toEqual({
      type: 'signal',
      lane: 0,
      candidate: { candidate: HOST_MDNS, sdpMid: null, sdpMLineIndex: null },
    });
  });

  it.each([
    ['not JSON', '{'],
    ['another type', json({ type: 'paired', lane: 0 })],
    ['lane out of range', json({ type: 'signal', lane: 2, description: { type: 'offer', sdp: '' } })],
    ['negative lane', json({ type: 'signal', lane: -1, description: { type: 'offer', sdp: '' } })],
    ['fractional lane', json({ type: 'signal', lane: 0.5, description: { type: 'offer', sdp: '' } })],
    ['bad description type', json({ type: 'signal', lane: 0, description: { type: 'rollback', sdp: '' } })],
    ['sdp not a string', json({ type: 'signal', lane: 0, description: { type: 'offer', sdp: 1 } })],
    ['neither description nor candidate', json({ type: 'signal', lane: 0 })],
    ['too large', json({ type: 'signal', lane: 0, description: { type: 'offer', sdp: 'x'.repeat(MAX_SIGNAL_BYTES) } })],
    ['null', 'null'],
  ])('drops %s', (_what, text) => expect(parseSignal(text, 2)).toBeUndefined());
});
