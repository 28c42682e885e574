/**
 * Offer/answer and candidates for one in-band lane, over its {@link LaneSignal}. The same steps and the same
 * node-datachannel rules as `negotiate` (src/connect/negotiate.ts: a negotiated bootstrap channel before the
 * offer, the offerer's candidates held until it applied the answer, remote candidates queued until the remote
 * description), written as `.then` chains with the timeout on a scheduler, so that connections whose
 * promises settle at once (the virtual ones of `createVirtualNetwork`) connect inside `TestScheduler.run()`.
 *
 * The offer leaves once the offerer's candidates are gathered (at most {@link OFFER_GATHER_WAIT_MS}), but
 * **without** candidate lines: the offerer sends them once it applied the answer. Then the offerer's ICE
 * checks reach the answerer first and the offerer's ICE connects first. With the candidates in the offer,
 * the answerer started its checks an RTT earlier and its ICE connected first: its DTLS ClientHello (the
 * answerer is the DTLS client) reached the offerer before the offerer's ICE had connected and was dropped,
 * and the handshake waited for DTLS's 1 s retransmission (measured through the emulator at 40 ms RTT: 6 of
 * 8 lanes connected 1.1 s after their answer; without candidates in the offer, every lane within 0.4 s).
 * An answer that takes longer than {@link CANDIDATES_HELD_AT_MOST_MS} does not hold them further: they leave
 * then, before the transfer's data can start on the given connection and queue them behind it.
 * Candidate lines in either SDP pass the same `acceptCandidate` filter as trickled ones.
 *
 * ```
 * offerer:  bootstrap channel → offer, gathered → offer (no candidates) ─► answer applied → candidates ─► checks → connected → DTLS
 * answerer:                                    ◄─ offer applied → answer ─► candidates ──────────────────► connected → ClientHello
 * ```
 */
import type { SchedulerLike } from 'rxjs';
import type { CandidateMessage, DescriptionMessage, SignalTransport } from '../connect/negotiate';
import { filterSdpCandidates, localCandidates } from './negotiateLaneInternals';
import { connectionGone } from './connectionGone';

export { CANDIDATES_HELD_AT_MOST_MS, filterSdpCandidates, OFFER_GATHER_WAIT_MS } from './negotiateLaneInternals';

/** Options of {@link negotiateLane}. */
export interface NegotiateLaneConfig {
  readonly role: 'offerer' | 'answerer';
  readonly transport: SignalTransport;
  /** Which candidate lines to send and accept. */
  readonly acceptCandidate: (candidate: string) => boolean;
  /** Give up after this long, ms. */
  readonly timeoutMs: number;
  readonly scheduler: SchedulerLike;
  /** Called once: connected, or failed (with why). */
  readonly onConnected: () => void;
  readonly onFailed: (reason: string) => void;
}

type Candidate = CandidateMessage['candidate'];

/**
 * Starts the negotiation of `pc` (fresh: no description set). Returns a function that stops it without
 * calling back (the lane was dropped meanwhile).
 */
export function negotiateLane(pc: any, c: NegotiateLaneConfig): () => void {
  // Remote candidates before the remote description.
  const pending: Candidate[] = [];
  let haveRemote = false;
  let settled = false;
  // The offer and the offerer's own candidates, held until the answer (negotiateLaneInternals.ts).
  const local = localCandidates(pc, c);

  const stop = (): void => {
    settled = true;
    timer.unsubscribe();
    unsubscribe();
    pc.removeEventListener('icecandidate', local.onCandidate);
    pc.removeEventListener('connectionstatechange', onState);
    local.stop();
  };
  const finish = (reason?: string): void => {
    if (settled) return;
    stop();
    if (reason === undefined) c.onConnected();
    else c.onFailed(reason);
  };
  const fail = (err: unknown): void => finish(err instanceof Error ? err.message : String(err));
  const attempt = (step: () => PromiseLike<unknown> | void): void => {
    try {
      const p = step();
      if (p) p.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  };

  const onState = (): void => {
    const state = pc.connectionState;
    if (state === 'connected') finish();
    else if (connectionGone(pc)) finish(`connectionState became ${state}`);
  };
  const addCandidate = (x: Candidate): PromiseLike<unknown> => pc.addIceCandidate(x.sdpMLineIndex === null ? { candidate: x.candidate, sdpMid: x.sdpMid ?? '0' } : x);
  const onDescription = (d: DescriptionMessage['description']): PromiseLike<unknown> =>
    pc.setRemoteDescription({ type: d.type, sdp: filterSdpCandidates(d.sdp, c.acceptCandidate) }).then(() => {
      // Stopped while it was applied (the lane was dropped): no candidates, no answer.
      if (settled) return undefined;
      haveRemote = true;
      local.releaseHeld();
      for (const x of pending.splice(0)) attempt(() => addCandidate(x));
      if (d.type !== 'offer') return undefined;
      return pc.createAnswer().then((answer: { type: string; sdp?: string }) =>
        pc.setLocalDescription(answer).then(() => settled || c.transport.send({ kind: 'description', description: { type: answer.type, sdp: filterSdpCandidates(answer.sdp ?? '', c.acceptCandidate) } })),
      );
    });

  const timer = c.scheduler.schedule(() => finish(`not connected within ${c.timeoutMs} ms`), c.timeoutMs);
  const unsubscribe = c.transport.onMessage((message) => {
    if (settled) return;
    if (message.kind === 'description') return attempt(() => onDescription(message.description));
    if (!c.acceptCandidate(message.candidate.candidate)) return;
    if (haveRemote) attempt(() => addCandidate(message.candidate));
    else pending.push(message.candidate);
  });
  pc.addEventListener('icecandidate', local.onCandidate);
  pc.addEventListener('connectionstatechange', onState);
  if (c.role === 'offerer') attempt(local.offer);
  onState();
  return () => {
    if (!settled) stop();
  };
}
