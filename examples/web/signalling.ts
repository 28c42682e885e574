/**
 * The web example's signalling protocol: JSON text frames over one WebSocket
 * (`/signal?room=<name>&lanes=<n>`) between a tab and the server, which pairs
 * two tabs per room and relays their offers, answers and ICE candidates.
 * Shared by the page and the server; no DOM, no Node APIs.
 *
 * ```
 * tab A ── join ──▶ server              ◀── join ── tab B
 * tab A ◀─ waiting
 * tab A ◀─ paired {role: offerer, lanes} ─ server ─ paired {role: answerer, lanes} ─▶ tab B
 * tab A ── signal {lane, description|candidate} ──▶ server ──▶ tab B     (and back)
 * tab A ◀─ peer-left (B closed its socket; A waits for the next tab)
 * ```
 *
 * Only host UDP candidates travel: no STUN, no TURN, nothing but the
 * addresses the browsers found themselves (127.0.0.1 in the tests).
 */

/** A session description as JSON. */
export interface DescriptionJson {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** An ICE candidate as JSON. */
export interface CandidateJson {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

/** An offer, answer or candidate for one lane (one RTCPeerConnection of the pair). */
export type SignalMessage =
  | { readonly type: 'signal'; readonly lane: number; readonly description: DescriptionJson }
  | { readonly type: 'signal'; readonly lane: number; readonly candidate: CandidateJson };

/** What the server tells a tab. */
export type ServerMessage =
  | { readonly type: 'waiting'; readonly room: string }
  | { readonly type: 'paired'; readonly role: 'offerer' | 'answerer'; readonly lanes: number }
  | { readonly type: 'peer-left' }
  | { readonly type: 'full' }
  | { readonly type: 'error'; readonly message: string }
  | SignalMessage;

/** Most peer connections ("lanes") a pair may open. */
export const MAX_LANES = 4;
/** Lanes when the URL does not say: two, which is what the library's `lan` profile uses. */
export const DEFAULT_LANES = 2;
/** Largest signalling frame accepted, bytes. An SDP is a few KiB. */
export const MAX_SIGNAL_BYTES = 64 * 1024;
/** Room names: 1-64 letters, digits, `-` or `_`. */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Removes the `a=` prefix some stacks put on candidate lines. */
const bare = (candidate: string): string => candidate.trim().replace(/^a=/, '');

/**
 * True for a UDP host candidate line: `candidate:<foundation> <component> udp
 * <priority> <address> <port> typ host …`. The address may be an IP or an mDNS
 * `*.local` name (what browsers show outside the test namespace).
 */
export function isHostUdpCandidate(candidate: string): boolean {
  const f = bare(candidate).split(/\s+/);
  return f.length >= 8 && f[0].startsWith('candidate:') && f[2].toLowerCase() === 'udp' && f[6] === 'typ' && f[7] === 'host';
}

/** Keeps only host UDP `a=candidate` lines in an SDP; every other line is untouched. */
export function filterSdpCandidates(sdp: string): string {
  return sdp
    .split(/\r\n/)
    .filter((line) => !line.startsWith('a=candidate:') || isHostUdpCandidate(line))
    .join('\r\n');
}

/** Lanes from a URL parameter: an integer 1..MAX_LANES, else {@link DEFAULT_LANES}. */
export function parseLanes(value: string | null | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= MAX_LANES ? n : DEFAULT_LANES;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * Parses a frame a tab sent. Returns the message to relay (with non-host
 * candidates removed from a description), or `undefined` for anything that must
 * not be relayed: malformed JSON, an unknown type, a lane out of range, or a
 * candidate that is not host UDP.
 */
export function parseSignal(text: string, lanes: number): SignalMessage | undefined {
  if (text.length > MAX_SIGNAL_BYTES) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(m) || m.type !== 'signal') return undefined;
  const lane = m.lane;
  if (typeof lane !== 'number' || !Number.isInteger(lane) || lane < 0 || lane >= lanes) return undefined;
  const d = m.description;
  if (isObject(d)) {
    if ((d.type !== 'offer' && d.type !== 'answer') || typeof d.sdp !== 'string') return undefined;
    return { type: 'signal', lane, description: { type: d.type, sdp: filterSdpCandidates(d.sdp) } };
  }
  const c = m.candidate;
  if (isObject(c)) {
    if (typeof c.candidate !== 'string' || !isHostUdpCandidate(c.candidate)) return undefined;
    const sdpMid = typeof c.sdpMid === 'string' ? c.sdpMid : null;
    const sdpMLineIndex = typeof c.sdpMLineIndex === 'number' && Number.isInteger(c.sdpMLineIndex) ? c.sdpMLineIndex : null;
    return { type: 'signal', lane, candidate: { candidate: bare(c.candidate), sdpMid, sdpMLineIndex } };
  }
  return undefined;
}
