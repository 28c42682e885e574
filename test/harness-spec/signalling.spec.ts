import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLoopbackTransports, isLoopbackUdpCandidate, normaliseCandidate, type SignalMessage } from '../harness/signalling';
import { patternBytes } from '../harness/pump';

describe('isLoopbackUdpCandidate', () => {
  it.each([
    ['candidate:1 1 UDP 2114977791 127.0.0.1 35486 typ host', true],
    ['a=candidate:1 1 UDP 2114977791 127.0.0.1 35486 typ host', true],
    ['candidate:2842875515 1 udp 2122260223 127.0.0.1 60013 typ host generation 0 ufrag nXZH network-id 1', true],
    ['candidate:2476837800 1 udp 2122063615 192.0.2.2 39776 typ host generation 0', false],
    ['candidate:1714252724 1 udp 2122267903 ::1 44212 typ host generation 0', false],
    ['candidate:9 1 udp 2122260223 0b6c1f3e-7d0e-4d47-9f5d-2a6c4f1c9e21.local 50000 typ host', false],
    ['candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active', false],
    ['', false],
    ['garbage', false],
  ])('%s → %s', (line, expected) => {
    expect(isLoopbackUdpCandidate(line)).toBe(expected);
  });

  it('normaliseCandidate strips the polyfill a= prefix only', () => {
    expect(normaliseCandidate('a=candidate:1 1 UDP 1 127.0.0.1 5 typ host')).toBe('candidate:1 1 UDP 1 127.0.0.1 5 typ host');
    expect(normaliseCandidate('candidate:1 1 UDP 1 127.0.0.1 5 typ host')).toBe('candidate:1 1 UDP 1 127.0.0.1 5 typ host');
  });
});

describe('createLoopbackTransports', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers asynchronously, in order, to the other side only', async () => {
    vi.useFakeTimers();
    const [a, b] = createLoopbackTransports();
    const atA: SignalMessage[] = [];
    const atB: SignalMessage[] = [];
    a.onMessage((m) => atA.push(m));
    const off = b.onMessage((m) => atB.push(m));
    const first: SignalMessage = { kind: 'description', description: { type: 'offer', sdp: 'v=0' } };
    const second: SignalMessage = { kind: 'candidate', candidate: { candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: null } };
    a.send(first);
    a.send(second);
    expect(atB).toEqual([]);
    await vi.runAllTimersAsync();
    expect(atB).toEqual([first, second]);
    expect(atA).toEqual([]);
    off();
    a.send(first);
    await vi.runAllTimersAsync();
    expect(atB).toHaveLength(2);
  });
});

describe('patternBytes', () => {
  it('is deterministic per seed and not trivially constant', () => {
    expect(patternBytes(1000, 5)).toEqual(patternBytes(1000, 5));
    expect(patternBytes(1000, 5)).not.toEqual(patternBytes(1000, 6));
    expect(new Set(patternBytes(4096, 1)).size).toBeGreaterThan(200);
    expect(patternBytes(7, 1)).toHaveLength(7);
  });
});
