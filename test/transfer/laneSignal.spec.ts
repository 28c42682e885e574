/**
 * LaneSignal's `rewriteLaneSignal` hook (what the network benchmark uses to point in-band lanes at its link
 * emulator): a synchronous rewrite sends at once, an asynchronous one keeps the lane's messages in order,
 * `undefined` or a rejection drops a message; and `filterSdpCandidates`, which applies `acceptLaneCandidate`
 * to the candidate lines of a lane's SDP.
 */
import { describe, expect, it } from 'vitest';
import type { ControlMessage } from '../../src/protocol/control';
import { LaneSignal, type LaneSignalOut } from '../../src/transfer/laneSignal';
import { filterSdpCandidates } from '../../src/transfer/negotiateLane';

const offer = { kind: 'description' as const, description: { type: 'offer', sdp: 'v=0\r\na=candidate:1 1 UDP 1 127.0.0.1 5000 typ host' } };
const candidate = (port: number) => ({ kind: 'candidate' as const, candidate: { candidate: `candidate:1 1 UDP 1 127.0.0.1 ${port} typ host`, sdpMid: '0', sdpMLineIndex: 0 } });
const texts = (sent: ControlMessage[]) => sent.map((m) => (m.t === 'lane-candidate' ? m.candidate : m.t === 'lane-offer' || m.t === 'lane-answer' ? m.sdp : m.t));

describe('LaneSignal with rewriteLaneSignal', () => {
  it('without a hook, messages leave as written, at once', () => {
    const sent: ControlMessage[] = [];
    const s = new LaneSignal(7, 2, (m) => sent.push(m) > 0);
    s.send(offer);
    expect(sent).toEqual([{ t: 'lane-offer', id: 7, lane: 2, sdp: offer.description.sdp }]);
  });

  it('a synchronous rewrite is sent at once, with what the hook saw', () => {
    const sent: ControlMessage[] = [];
    const seen: LaneSignalOut[] = [];
    const s = new LaneSignal(7, 2, (m) => sent.push(m) > 0, { side: 'sender', fn: (m) => (seen.push(m), m.text.replace(/5000|6000/, '9999')) });
    s.send(offer);
    s.send(candidate(6000));
    expect(seen.map((m) => [m.lane, m.side, m.kind])).toEqual([
      [2, 'sender', 'offer'],
      [2, 'sender', 'candidate'],
    ]);
    expect(texts(sent)).toEqual(['v=0\r\na=candidate:1 1 UDP 1 127.0.0.1 9999 typ host', 'candidate:1 1 UDP 1 127.0.0.1 9999 typ host']);
    expect(sent[1]).toMatchObject({ t: 'lane-candidate', mid: '0', mline: 0 });
  });

  it('asynchronous rewrites keep the order even when a later one settles first; undefined and rejections drop', async () => {
    const sent: ControlMessage[] = [];
    // Each rewrite settles when the test says so.
    const pending = new Map<string, { resolve: (text: string | undefined) => void; reject: (e: Error) => void; text: string }>();
    const s = new LaneSignal(1, 0, (m) => sent.push(m) > 0, {
      side: 'receiver',
      fn: (m) => new Promise<string | undefined>((resolve, reject) => pending.set(m.kind === 'candidate' ? m.text.split(' ')[5] : m.kind, { resolve, reject, text: m.text })),
    });
    const flush = () => new Promise((r) => setImmediate(r));
    s.send({ kind: 'description', description: { type: 'answer', sdp: 'v=0' } });
    s.send(candidate(6001));
    s.send(candidate(6002));
    s.send(candidate(6003));
    s.send(candidate(6004));
    await flush();
    // Only the first is being rewritten: the others wait for it.
    expect([...pending.keys()]).toEqual(['answer']);
    pending.get('answer')!.resolve('v=0!');
    await flush();
    expect(texts(sent)).toEqual(['v=0!']);
    pending.get('6001')!.resolve('c1!');
    await flush();
    pending.get('6002')!.resolve(undefined);
    await flush();
    pending.get('6003')!.reject(new Error('no path'));
    await flush();
    pending.get('6004')!.resolve('c4!');
    await flush();
    expect(texts(sent)).toEqual(['v=0!', 'c1!', 'c4!']);
    expect(sent[0].t).toBe('lane-answer');
  });
});

describe('filterSdpCandidates', () => {
  it('keeps the candidate lines the filter takes and every other line', () => {
    const sdp = ['v=0', 'a=candidate:1 1 UDP 1 127.0.0.1 5000 typ host', 'a=candidate:2 1 UDP 1 192.0.2.7 5001 typ host', 'a=mid:0'].join('\r\n');
    expect(filterSdpCandidates(sdp, (c) => c.includes('127.0.0.1'))).toBe(['v=0', 'a=candidate:1 1 UDP 1 127.0.0.1 5000 typ host', 'a=mid:0'].join('\r\n'));
  });
});
