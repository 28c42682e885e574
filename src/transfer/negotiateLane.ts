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

/** The offer waits at most this long for ICE gathering to complete, ms; then it leaves with what was gathered. */
export const OFFER_GATHER_WAIT_MS = 1000;

/**
 * The offerer's candidates wait for the answer at most this long after the offer left, ms; then they leave
 * anyway. Before any lane joined, the transfer's data starts on the given connection after at most 3 s, and
 * control messages the sender sends after that queue behind its data (seconds on a slow lossy path): a lane
 * whose answer came late must not need a message from the sender then. Sent early, they cost at most DTLS's
 * 1 s retransmission (the answerer's ClientHello may arrive before the offerer's ICE connected).
 */
export const CANDIDATES_HELD_AT_MOST_MS = 1500;

/** Keeps the `a=candidate:` lines of `sdp` that `accept` takes (given without the `a=`); the others go. */
export function filterSdpCandidates(sdp: string, accept: (candidate: string) => boolean): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || accept(line.slice(2)))
    .join('\r\n');
}

/** The candidate lines (normalised, without `a=`) of `sdp`. */
const sdpCandidates = (sdp: string): Set<string> =>
  new Set(
    sdp
      .split('\r\n')
      .filter((l) => l.startsWith('a=candidate:'))
      .map((l) => normaliseCandidate(l.slice(2))),
  );

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
    pc.removeEventListener('icegatheringstatechange', onGathering);
    gatherWait?.unsubscribe();
    heldWait?.unsubscribe();
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
    if (gathered.has(normaliseCandidate(found.candidate))) return;
    const candidate = { candidate: normaliseCandidate(found.candidate), sdpMid: found.sdpMid ?? '0', sdpMLineIndex: found.sdpMLineIndex ?? null };
    if (held && !released) held.push(candidate);
    else c.transport.send({ kind: 'candidate', candidate });
  };
  const addCandidate = (x: Candidate): PromiseLike<unknown> => pc.addIceCandidate(x.sdpMLineIndex === null ? { candidate: x.candidate, sdpMid: x.sdpMid ?? '0' } : x);
  /** The offerer's held candidates leave: the answer is applied, or it is late (`CANDIDATES_HELD_AT_MOST_MS`). */
  const releaseHeld = (): void => {
    heldWait?.unsubscribe();
    heldWait = undefined;
    released = true;
    for (const x of held?.splice(0) ?? []) c.transport.send({ kind: 'candidate', candidate: x });
  };
  const onDescription = (d: DescriptionMessage['description']): PromiseLike<unknown> =>
    pc.setRemoteDescription({ type: d.type, sdp: filterSdpCandidates(d.sdp, c.acceptCandidate) }).then(() => {
      haveRemote = true;
      releaseHeld();
      for (const x of pending.splice(0)) attempt(() => addCandidate(x));
      if (d.type !== 'offer') return undefined;
      return pc.createAnswer().then((answer: { type: string; sdp?: string }) =>
        pc.setLocalDescription(answer).then(() => c.transport.send({ kind: 'description', description: { type: answer.type, sdp: filterSdpCandidates(answer.sdp ?? '', c.acceptCandidate) } })),
      );
    });

  /** Sends the offer as it stands now, without candidate lines (its gathered candidates wait in `held`): once. */
  let offerSent = false;
  const sendOffer = (fallback: { type: string; sdp?: string }): void => {
    if (offerSent || settled) return;
    offerSent = true;
    gatherWait?.unsubscribe();
    pc.removeEventListener('icegatheringstatechange', onGathering);
    const local = pc.localDescription as { type: string; sdp?: string } | null | undefined;
    const sdp = filterSdpCandidates(local?.sdp ?? fallback.sdp ?? '', c.acceptCandidate);
    // The gathered candidates leave once the answer is applied (`held`), not in the offer: see the file's comment.
    gathered = sdpCandidates(sdp);
    const queued = new Set(held?.map((x) => x.candidate));
    const sdpMid = /\r\na=mid:([^\r]*)/.exec(sdp)?.[1] ?? '0';
    for (const candidate of gathered) if (!queued.has(candidate)) held?.push({ candidate, sdpMid, sdpMLineIndex: 0 });
    c.transport.send({ kind: 'description', description: { type: 'offer', sdp: filterSdpCandidates(sdp, () => false) } });
    if (!released) heldWait = c.scheduler.schedule(releaseHeld, Math.min(CANDIDATES_HELD_AT_MOST_MS, c.timeoutMs));
  };
  let offerMade: { type: string; sdp?: string } | undefined;
  /** The candidate lines of the local SDP when the offer left: queued in `held` once, not again from events. */
  let gathered = new Set<string>();
  let gatherWait: { unsubscribe(): void } | undefined;
  // The timer that releases the held candidates without an answer, and whether they left (set with the answer too).
  let heldWait: { unsubscribe(): void } | undefined;
  let released = false;
  const onGathering = (): void => {
    if (offerMade && pc.iceGatheringState === 'complete') sendOffer(offerMade);
  };

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
        pc.setLocalDescription(offer).then(() => {
          offerMade = offer;
          // Stacks without the gathering state (or done already): the offer leaves now.
          if (pc.iceGatheringState === undefined || pc.iceGatheringState === 'complete') return sendOffer(offer);
          pc.addEventListener('icegatheringstatechange', onGathering);
          gatherWait = c.scheduler.schedule(() => sendOffer(offer), Math.min(OFFER_GATHER_WAIT_MS, c.timeoutMs));
        }),
      );
    });
  }
  onState();
  return () => {
    if (!settled) stop();
  };
}
