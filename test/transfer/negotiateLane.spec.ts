/**
 * negotiateLane's offer: it leaves once ICE gathering is complete, without candidate lines; the gathered
 * candidates (filtered by `acceptCandidate`) follow once the answer is applied, each once, so that the
 * offerer's ICE connects before the answerer's (the answerer's DTLS ClientHello is not dropped). Where
 * gathering is not complete yet, the offer waits for it, at most OFFER_GATHER_WAIT_MS on the scheduler.
 */
import { describe, expect, it } from 'vitest';
import type { SignalMessage } from '../../src/connect/negotiate';
import { CANDIDATES_HELD_AT_MOST_MS, negotiateLane, OFFER_GATHER_WAIT_MS } from '../../src/transfer/negotiateLane';
import { testScheduler } from '../helpers/marbles';

const LOOPBACK = 'candidate:1 1 UDP 2114977791 127.0.0.1 50000 typ host';
const OTHER = 'candidate:2 1 UDP 2114977791 192.0.2.9 50000 typ host';
const SDP = ['v=0', `a=${LOOPBACK}`, `a=${OTHER}`, 'a=mid:0'].join('\r\n');

/** A peer connection whose promises settle at once and whose events the test fires. */
function fakePc(gathering: 'complete' | 'gathering') {
  const listeners = new Map<string, Array<(e: any) => void>>();
  const now = <T>(value: T): Promise<T> => ({ then: (ok?: (v: T) => unknown) => (ok ? now(ok(value)) : now(value)) }) as unknown as Promise<T>;
  const pc = {
    iceGatheringState: gathering,
    connectionState: 'new',
    localDescription: null as null | { type: string; sdp: string },
    createDataChannel: () => ({}),
    setRemoteDescription: () => now(undefined),
    addIceCandidate: () => now(undefined),
    createOffer: () => now({ type: 'offer', sdp: 'v=0' }),
    createAnswer: () => now({ type: 'answer', sdp: 'v=0' }),
    setLocalDescription: () => {
      pc.localDescription = { type: 'offer', sdp: SDP };
      return now(undefined);
    },
    addEventListener: (t: string, f: (e: any) => void) => listeners.set(t, [...(listeners.get(t) ?? []), f]),
    removeEventListener: (t: string, f: (e: any) => void) => listeners.set(t, (listeners.get(t) ?? []).filter((g) => g !== f)),
    fire: (t: string, e: any = {}) => (listeners.get(t) ?? []).forEach((f) => f(e)),
  };
  return pc;
}

const start = (pc: ReturnType<typeof fakePc>, scheduler: ReturnType<typeof testScheduler>) => {
  const sent: SignalMessage[] = [];
  let deliver: (m: SignalMessage) => void = () => undefined;
  negotiateLane(pc, {
    role: 'offerer',
    transport: { send: (m) => void sent.push(m), onMessage: (h) => ((deliver = h), () => undefined) },
    acceptCandidate: (c) => c.includes('127.0.0.1'),
    timeoutMs: 10_000,
    scheduler,
    onConnected: () => undefined,
    onFailed: () => undefined,
  });
  return Object.assign(sent, { answer: () => deliver({ kind: 'description', description: { type: 'answer', sdp: 'v=0' } }) });
};

describe('negotiateLane: the offer leaves once gathered, its candidates after the answer', () => {
  it('gathering complete: the offer leaves at once without candidate lines; the accepted ones follow the answer, each once', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const pc = fakePc('complete');
      const sent = start(pc, scheduler);
      expect([...sent]).toEqual([{ kind: 'description', description: { type: 'offer', sdp: ['v=0', 'a=mid:0'].join('\r\n') } }]);
      // The same candidate as an event, and a new one, before the answer: nothing goes out yet.
      pc.fire('icecandidate', { candidate: { candidate: `a=${LOOPBACK}`, sdpMid: '0', sdpMLineIndex: 0 } });
      pc.fire('icecandidate', { candidate: { candidate: LOOPBACK.replace('50000', '50001'), sdpMid: '0', sdpMLineIndex: 0 } });
      expect(sent).toHaveLength(1);
      sent.answer();
      expect(sent.slice(1)).toEqual([
        { kind: 'candidate', candidate: { candidate: LOOPBACK, sdpMid: '0', sdpMLineIndex: 0 } },
        { kind: 'candidate', candidate: { candidate: LOOPBACK.replace('50000', '50001'), sdpMid: '0', sdpMLineIndex: 0 } },
      ]);
    });
  });

  it(`an answer later than ${CANDIDATES_HELD_AT_MOST_MS} ms: the candidates leave without it, each once`, () => {
    const scheduler = testScheduler();
    scheduler.run(({ flush }) => {
      const pc = fakePc('complete');
      const sent = start(pc, scheduler);
      scheduler.schedule(() => {
        // Just before the bound: still held.
        expect(sent).toHaveLength(1);
      }, CANDIDATES_HELD_AT_MOST_MS - 1);
      scheduler.schedule(() => {
        expect(sent.slice(1)).toEqual([{ kind: 'candidate', candidate: { candidate: LOOPBACK, sdpMid: '0', sdpMLineIndex: 0 } }]);
        // One gathered later goes out at once; the answer, when it comes, sends nothing twice.
        pc.fire('icecandidate', { candidate: { candidate: LOOPBACK.replace('50000', '50002'), sdpMid: '0', sdpMLineIndex: 0 } });
        sent.answer();
      }, CANDIDATES_HELD_AT_MOST_MS);
      flush();
      expect(sent.slice(1).map((m) => (m.kind === 'candidate' ? m.candidate.candidate : m.kind))).toEqual([LOOPBACK, LOOPBACK.replace('50000', '50002')]);
    });
  });

  it('an answer in time cancels the bound: nothing is sent twice', () => {
    const scheduler = testScheduler();
    scheduler.run(({ flush }) => {
      const pc = fakePc('complete');
      const sent = start(pc, scheduler);
      sent.answer();
      flush();
      expect(sent).toHaveLength(2);
    });
  });

  it('gathering still running: the offer waits for it to complete', () => {
    const scheduler = testScheduler();
    scheduler.run(({ flush }) => {
      const pc = fakePc('gathering');
      const sent = start(pc, scheduler);
      expect(sent).toHaveLength(0);
      pc.iceGatheringState = 'complete';
      pc.fire('icegatheringstatechange');
      expect(sent).toHaveLength(1);
      flush();
      // The gathering wait does not send the offer again (the candidates leave at the answer's bound).
      expect(sent.filter((m) => m.kind === 'description')).toHaveLength(1);
    });
  });

  it(`gathering never completes: the offer leaves after ${OFFER_GATHER_WAIT_MS} ms with what it has`, () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const pc = fakePc('gathering');
      const sent = start(pc, scheduler);
      scheduler.schedule(() => expect(sent).toHaveLength(0), OFFER_GATHER_WAIT_MS - 1);
      scheduler.schedule(() => expect(sent).toHaveLength(1), OFFER_GATHER_WAIT_MS);
    });
  });
});

describe('negotiateLane stopped while a description is being applied', () => {
  /** A promise-like the test settles: `then` callbacks run when `settle()` is called. */
  const deferred = () => {
    const waiting: Array<() => void> = [];
    let done = false;
    const p = { then: (ok?: () => unknown) => (ok && (done ? ok() : waiting.push(() => void ok())), p) };
    return { p, settle: () => ((done = true), waiting.splice(0).forEach((f) => f())) };
  };

  it('offerer: a local description applied after the stop adds no gathering listener, starts no timer, sends nothing', () => {
    const scheduler = testScheduler();
    scheduler.run(({ flush }) => {
      const pc = fakePc('gathering');
      const local = deferred();
      pc.setLocalDescription = () => ((pc.localDescription = { type: 'offer', sdp: SDP }), local.p as unknown as Promise<undefined>);
      const added: string[] = [];
      const add = pc.addEventListener;
      pc.addEventListener = (t, f) => (added.push(t), add(t, f));
      const sent: SignalMessage[] = [];
      const stop = negotiateLane(pc, {
        role: 'offerer',
        transport: { send: (m) => void sent.push(m), onMessage: () => () => undefined },
        acceptCandidate: () => true,
        timeoutMs: 10_000,
        scheduler,
        onConnected: () => undefined,
        onFailed: () => undefined,
      });
      stop();
      local.settle();
      pc.iceGatheringState = 'complete';
      pc.fire('icegatheringstatechange');
      flush();
      expect(added).not.toContain('icegatheringstatechange');
      expect(sent).toEqual([]);
    });
  });

  it('answerer: an offer applied after the stop creates and sends no answer', () => {
    const scheduler = testScheduler();
    scheduler.run(({ flush }) => {
      const pc = fakePc('complete');
      const remote = deferred();
      pc.setRemoteDescription = () => remote.p as unknown as Promise<undefined>;
      let answers = 0;
      const createAnswer = pc.createAnswer;
      pc.createAnswer = () => (answers++, createAnswer());
      const sent: SignalMessage[] = [];
      let deliver: (m: SignalMessage) => void = () => undefined;
      const stop = negotiateLane(pc, {
        role: 'answerer',
        transport: { send: (m) => void sent.push(m), onMessage: (h) => ((deliver = h), () => undefined) },
        acceptCandidate: () => true,
        timeoutMs: 10_000,
        scheduler,
        onConnected: () => undefined,
        onFailed: () => undefined,
      });
      deliver({ kind: 'description', description: { type: 'offer', sdp: 'v=0' } });
      stop();
      remote.settle();
      flush();
      expect(answers).toBe(0);
      expect(sent).toEqual([]);
    });
  });
});
