/**
 * The rendezvous protocol: JSON text frames over one WebSocket between a peer
 * (a browser tab, the `tallow-rx` command line) and the rendezvous server,
 * which pairs two peers per room and relays their offers, answers and ICE
 * candidates. Shared by the server, the page and the command line: no DOM, no
 * `node:` imports.
 *
 * ```
 * peer A ── WS /signal?room=<name>&lanes=n ──▶ server            (or ?code=<CODE>)
 * peer A ◀─ waiting {room, code, resume}
 *                                   server ◀── WS /signal?code=ABC-DEF&lanes=n ── peer B
 * peer A ◀─ paired {offerer, lanes, room, iceServers} ─ server ─ paired {answerer, …} ─▶ peer B
 * peer A ── signal {lane, description|candidate} ──▶ server ──▶ peer B   (and back)
 * peer A ◀─ peer-left   (B's socket closed; A waits for the next peer)
 * ```
 *
 * | state            | the server sends                    | the peer may send |
 * |------------------|-------------------------------------|-------------------|
 * | joining          | waiting, paired, full, error        | nothing           |
 * | waiting          | paired, error                       | (signals dropped) |
 * | paired           | signal, peer-left, error            | signal            |
 * | closed (4000+)   | `error` or `full` just before close | —                 |
 *
 * Candidates: host UDP candidates always pass; relay candidates (TURN) pass
 * when the server hands out TURN servers. Every other candidate is dropped,
 * both as a candidate message and as an `a=candidate` line inside an SDP.
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

/** An ICE server as `RTCPeerConnection` takes it (RTCIceServer without DOM types). */
export interface IceServerJson {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** An offer, answer or candidate for one lane (one RTCPeerConnection of the pair). */
export type SignalMessage =
  | { readonly type: 'signal'; readonly lane: number; readonly description: DescriptionJson }
  | { readonly type: 'signal'; readonly lane: number; readonly candidate: CandidateJson };

/** Machine-readable `code` of an `error` frame. */
export type SignalErrorCode =
  /** Bad room name, bad origin, neither room nor code in the URL. Closed with {@link CLOSE_BAD_REQUEST}. */
  | 'bad-request'
  /** No room has this code (never had, or it expired). Closed with {@link CLOSE_UNKNOWN_CODE}. */
  | 'unknown-code'
  /** Too many joins from this address or for this code, or too many messages from this socket. Closed with {@link CLOSE_RATE_LIMITED}. */
  | 'rate-limited'
  /** A frame that is not a signal message (the socket stays open; the frame is dropped). */
  | 'bad-message'
  /** The server could not reach its store (Redis). Closed with {@link CLOSE_UNAVAILABLE}. */
  | 'unavailable';

/** What the server tells a peer. */
export type ServerMessage =
  /**
   * Alone in the room. `code` is the room's short code (six characters of
   * `ROOM_CODE_ALPHABET`, show it with `formatRoomCode`), valid until
   * `codeExpiresAt` (ms since the epoch). `resume` lets this peer take its seat
   * back after its socket dropped (`?room=<room>&resume=<resume>`).
   */
  | { readonly type: 'waiting'; readonly room: string; readonly code: string; readonly codeExpiresAt: number; readonly resume: string }
  /** Paired: `offerer` creates the offers. `iceServers` is empty unless the server hands out TURN. */
  | {
      readonly type: 'paired';
      readonly role: 'offerer' | 'answerer';
      readonly lanes: number;
      readonly room: string;
      readonly iceServers: readonly IceServerJson[];
      readonly resume: string;
    }
  | { readonly type: 'peer-left' }
  | { readonly type: 'full' }
  | { readonly type: 'error'; readonly code: SignalErrorCode; readonly message: string }
  | SignalMessage;

/** Close code: bad request (room name, origin, query). */
export const CLOSE_BAD_REQUEST = 4000;
/** Close code: the room already has two peers. */
export const CLOSE_ROOM_FULL = 4001;
/** Close code: unknown or expired room code. */
export const CLOSE_UNKNOWN_CODE = 4004;
/** Close code: this seat was taken over by a newer socket with the same `resume` token. */
export const CLOSE_REPLACED = 4009;
/** Close code: rate limited. */
export const CLOSE_RATE_LIMITED = 4029;
/** Close code: the server's store is unavailable. */
export const CLOSE_UNAVAILABLE = 4503;

/** Most peer connections ("lanes") a pair may open. */
export const MAX_LANES = 4;
/** Lanes when the URL does not say: two, which is what the library's `lan` profile uses. */
export const DEFAULT_LANES = 2;
/** Largest signalling frame accepted, bytes. An SDP is a few KiB. */
export const MAX_SIGNAL_BYTES = 64 * 1024;
/** Room names: 1-64 letters, digits, `-` or `_`. */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Which candidates {@link parseSignal} lets through. */
export interface CandidatePolicy {
  /** Relay (TURN) candidates too. Default false: host UDP only. */
  readonly relay?: boolean;
}

/** Removes the `a=` prefix some stacks put on candidate lines. */
const bare = (candidate: string): string => candidate.trim().replace(/^a=/, '');

/** `[protocol, type]` of a candidate line, lower-case, or undefined if it is not one. */
function candidateKind(candidate: string): { protocol: string; type: string } | undefined {
  const f = bare(candidate).split(/\s+/);
  if (f.length < 8 || !f[0].startsWith('candidate:') || f[6] !== 'typ') return undefined;
  return { protocol: f[2].toLowerCase(), type: f[7] };
}

/**
 * True for a UDP host candidate line: `candidate:<foundation> <component> udp
 * <priority> <address> <port> typ host …`. The address may be an IP or an mDNS
 * `*.local` name (what browsers show outside the test namespace).
 */
export function isHostUdpCandidate(candidate: string): boolean {
  const k = candidateKind(candidate);
  return k !== undefined && k.protocol === 'udp' && k.type === 'host';
}

/** True for a relay (TURN) candidate line, UDP or TCP. */
export function isRelayCandidate(candidate: string): boolean {
  return candidateKind(candidate)?.type === 'relay';
}

/** The candidate filter of a policy. */
export function candidateFilter(policy: CandidatePolicy = {}): (candidate: string) => boolean {
  return (c) => isHostUdpCandidate(c) || (policy.relay === true && isRelayCandidate(c));
}

/** Keeps only the `a=candidate` lines the policy allows in an SDP; every other line is untouched. */
export function filterSdpCandidates(sdp: string, policy: CandidatePolicy = {}): string {
  const allowed = candidateFilter(policy);
  return sdp
    .split(/\r\n/)
    .filter((line) => !line.startsWith('a=candidate:') || allowed(line))
    .join('\r\n');
}

/** Lanes from a URL parameter: an integer 1..MAX_LANES, else {@link DEFAULT_LANES}. */
export function parseLanes(value: string | null | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= MAX_LANES ? n : DEFAULT_LANES;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * Parses a frame a peer sent. Returns the message to relay (with disallowed
 * candidates removed from a description), or `undefined` for anything that must
 * not be relayed: malformed JSON, an unknown type, a lane out of range, or a
 * candidate the policy does not allow.
 */
export function parseSignal(text: string, lanes: number, policy: CandidatePolicy = {}): SignalMessage | undefined {
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
    return { type: 'signal', lane, description: { type: d.type, sdp: filterSdpCandidates(d.sdp, policy) } };
  }
  const c = m.candidate;
  if (isObject(c)) {
    if (typeof c.candidate !== 'string' || !candidateFilter(policy)(c.candidate)) return undefined;
    const sdpMid = typeof c.sdpMid === 'string' ? c.sdpMid : null;
    const sdpMLineIndex = typeof c.sdpMLineIndex === 'number' && Number.isInteger(c.sdpMLineIndex) ? c.sdpMLineIndex : null;
    return { type: 'signal', lane, candidate: { candidate: bare(c.candidate), sdpMid, sdpMLineIndex } };
  }
  return undefined;
}
