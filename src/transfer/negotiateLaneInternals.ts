/**
 * The local side of `negotiateLane`: the offer, which leaves without candidate lines once ICE gathering is
 * complete (at most {@link OFFER_GATHER_WAIT_MS}), and the offerer's own candidates, held until the answer is
 * applied (at most {@link CANDIDATES_HELD_AT_MOST_MS}); the answerer's leave as they come. `negotiateLane`
 * calls {@link localCandidates} once per negotiation, so each gets fresh state (closure locals). Why the
 * candidates wait: negotiateLane.ts's file comment.
 */
import { BOOTSTRAP_CHANNEL_ID, type CandidateMessage } from '../connect/negotiate';
import { normaliseCandidate } from '../connect/loopbackCandidates';
import type { NegotiateLaneConfig } from './negotiateLane';

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
 * One negotiation's local side: `onCandidate` for `pc`'s 'icecandidate' events, `offer` (the offerer's first
 * step), `releaseHeld` once the answer is applied, and `stop`, which drops the waits (an offer not sent by
 * then never leaves).
 */
export function localCandidates(pc: any, c: NegotiateLaneConfig) {
  // The offerer's own candidates before the answer; null for the answerer, whose candidates leave at once.
  const held: Candidate[] | null = c.role === 'offerer' ? [] : null;
  let offerMade: { type: string; sdp?: string } | undefined;
  /** Sent once; not after `stop`. */
  let offerSent = false;
  let stopped = false;
  /** The candidate lines of the local SDP when the offer left: queued in `held` once, not again from events. */
  let gathered = new Set<string>();
  let gatherWait: { unsubscribe(): void } | undefined;
  // The timer that releases the held candidates without an answer, and whether they left (set with the answer too).
  let heldWait: { unsubscribe(): void } | undefined;
  let released = false;

  const onCandidate = (event: { candidate?: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null }): void => {
    const found = event.candidate;
    if (!found?.candidate || !c.acceptCandidate(found.candidate)) return;
    if (gathered.has(normaliseCandidate(found.candidate))) return;
    const candidate = { candidate: normaliseCandidate(found.candidate), sdpMid: found.sdpMid ?? '0', sdpMLineIndex: found.sdpMLineIndex ?? null };
    if (held && !released) held.push(candidate);
    else c.transport.send({ kind: 'candidate', candidate });
  };
  /** The offerer's held candidates leave: the answer is applied, or it is late (`CANDIDATES_HELD_AT_MOST_MS`). */
  const releaseHeld = (): void => {
    heldWait?.unsubscribe();
    heldWait = undefined;
    released = true;
    for (const x of held?.splice(0) ?? []) c.transport.send({ kind: 'candidate', candidate: x });
  };
  /** Sends the offer as it stands now, without candidate lines (its gathered candidates wait in `held`): once. */
  const sendOffer = (fallback: { type: string; sdp?: string }): void => {
    if (offerSent || stopped) return;
    offerSent = true;
    gatherWait?.unsubscribe();
    pc.removeEventListener('icegatheringstatechange', onGathering);
    const local = pc.localDescription as { type: string; sdp?: string } | null | undefined;
    const sdp = filterSdpCandidates(local?.sdp ?? fallback.sdp ?? '', c.acceptCandidate);
    // The gathered candidates leave once the answer is applied (`held`), not in the offer: see negotiateLane.ts's comment.
    gathered = sdpCandidates(sdp);
    const queued = new Set(held?.map((x) => x.candidate));
    const sdpMid = /\r\na=mid:([^\r]*)/.exec(sdp)?.[1] ?? '0';
    for (const candidate of gathered) if (!queued.has(candidate)) held?.push({ candidate, sdpMid, sdpMLineIndex: 0 });
    c.transport.send({ kind: 'description', description: { type: 'offer', sdp: filterSdpCandidates(sdp, () => false) } });
    if (!released) heldWait = c.scheduler.schedule(releaseHeld, Math.min(CANDIDATES_HELD_AT_MOST_MS, c.timeoutMs));
  };
  const onGathering = (): void => {
    if (offerMade && pc.iceGatheringState === 'complete') sendOffer(offerMade);
  };

  return {
    onCandidate,
    releaseHeld,
    /** The offerer's first step: a negotiated bootstrap channel, the offer applied, then sent once gathered. */
    offer: (): PromiseLike<unknown> => {
      pc.createDataChannel('bootstrap', { negotiated: true, id: BOOTSTRAP_CHANNEL_ID });
      return pc.createOffer().then((offer: { type: string; sdp?: string }) =>
        pc.setLocalDescription(offer).then(() => {
          // Stopped meanwhile (the lane was dropped): no listener or timer that nothing would remove.
          if (stopped) return undefined;
          offerMade = offer;
          // Stacks without the gathering state (or done already): the offer leaves now.
          if (pc.iceGatheringState === undefined || pc.iceGatheringState === 'complete') return sendOffer(offer);
          pc.addEventListener('icegatheringstatechange', onGathering);
          gatherWait = c.scheduler.schedule(() => sendOffer(offer), Math.min(OFFER_GATHER_WAIT_MS, c.timeoutMs));
        }),
      );
    },
    stop: (): void => {
      stopped = true;
      pc.removeEventListener('icegatheringstatechange', onGathering);
      gatherWait?.unsubscribe();
      heldWait?.unsubscribe();
    },
  };
}
