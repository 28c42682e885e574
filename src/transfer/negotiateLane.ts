/**
 * Offer/answer and candidates for one in-band lane, over its {@link LaneSignal}. The same steps and the same
 * node-datachannel rules as `negotiate` (src/connect/negotiate.ts: a negotiated bootstrap channel before the
 * offer, the offerer's candidates held until it applied the answer, remote candidates queued until the remote
 * description), written as `.then` chains with the timeout on a scheduler, so that connections whose
 * promises settle at once (the virtual ones of `createVirtualNetwork`) connect inside `TestScheduler.run()`.
 *
 * ```
 * offerer:  bootstrap channel → offer ─────────────► answer applied → (held) candidates ─► connected
 * answerer:                      ◄─ offer applied → answer ─► candidates ──────────────────► connected
 * ```
 */
import type { SchedulerLike } from 'rxjs';
import { BOOTSTRAP_CHANNEL_ID, type CandidateMessage, type DescriptionMessage, type SignalTransport } from '../connect/negotiate';
import { normaliseCandidate } from '../connect/loopbackCandidates';

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
  // Remote candidates before the remote description; the offerer's own candidates before the answer.
  const pending: Candidate[] = [];
  const held: Candidate[] | null = c.role === 'offerer' ? [] : null;
  let haveRemote = false;
  let settled = false;

  const stop = (): void => {
    settled = true;
    timer.unsubscribe();
    unsubscribe();
    pc.removeEventListener('icecandidate', onCandidate);
    pc.removeEventListener('connectionstatechange', onState);
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
    else if (state === 'failed' || state === 'closed') finish(`connectionState became ${state}`);
  };
  const onCandidate = (event: { candidate?: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null }): void => {
    const found = event.candidate;
    if (!found?.candidate || !c.acceptCandidate(found.candidate)) return;
    const candidate = { candidate: normaliseCandidate(found.candidate), sdpMid: found.sdpMid ?? '0', sdpMLineIndex: found.sdpMLineIndex ?? null };
    if (held && !haveRemote) held.push(candidate);
    else c.transport.send({ kind: 'candidate', candidate });
  };
  const addCandidate = (x: Candidate): PromiseLike<unknown> => pc.addIceCandidate(x.sdpMLineIndex === null ? { candidate: x.candidate, sdpMid: x.sdpMid ?? '0' } : x);
  const onDescription = (d: DescriptionMessage['description']): PromiseLike<unknown> =>
    pc.setRemoteDescription(d).then(() => {
      haveRemote = true;
      for (const x of held?.splice(0) ?? []) c.transport.send({ kind: 'candidate', candidate: x });
      for (const x of pending.splice(0)) attempt(() => addCandidate(x));
      if (d.type !== 'offer') return undefined;
      return pc.createAnswer().then((answer: { type: string; sdp?: string }) =>
        pc.setLocalDescription(answer).then(() => c.transport.send({ kind: 'description', description: { type: answer.type, sdp: answer.sdp ?? '' } })),
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
  pc.addEventListener('icecandidate', onCandidate);
  pc.addEventListener('connectionstatechange', onState);
  if (c.role === 'offerer') {
    attempt(() => {
      pc.createDataChannel('bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
      return pc.createOffer().then((offer: { type: string; sdp?: string }) =>
        pc.setLocalDescription(offer).then(() => c.transport.send({ kind: 'description', description: { type: offer.type, sdp: offer.sdp ?? '' } })),
      );
    });
  }
  onState();
  return () => {
    if (!settled) stop();
  };
}
