/**
 * Puts the link emulator between two peers by rewriting ICE candidates during
 * in-process signalling: each peer is told that the other lives at an emulator
 * port, and the emulator learns the real ports from the same candidates.
 *
 * ```
 * A's candidate  127.0.0.1 pa  ──(to B)──►  127.0.0.1 portFacingB   (relay learns a = pa)
 * B's candidate  127.0.0.1 pb  ──(to A)──►  127.0.0.1 portFacingA   (relay learns b = pb)
 * ```
 *
 * Only UDP 127.0.0.1 host candidates pass (in trickled messages and in SDP), so
 * no direct path between the peers exists.
 */
import { createLoopbackTransports, isLoopbackUdpCandidate, negotiate, normaliseCandidate, type NegotiateConfig, type SignalMessage, type SignalTransport } from '../../harness/signalling';
import type { LaneOptions, LaneSignalOut } from '../../src/index';
import type { EmulatorPath, LinkEmulatorApi } from './UdpRelay';

/** Candidate fields: `candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> …`. */
const PORT_FIELD = 5;

/** True for a UDP 127.0.0.1 host candidate (the only kind the emulator relays). */
export function isRelayableCandidate(candidate: string): boolean {
  if (!isLoopbackUdpCandidate(candidate)) return false;
  const fields = normaliseCandidate(candidate).split(/\s+/);
  return fields[7] === 'host';
}

/**
 * Rewrites one candidate line's port to `port`; returns the line and the port
 * it had. Returns undefined for a candidate the emulator does not relay.
 */
export function rewriteCandidate(candidate: string, port: number): { candidate: string; realPort: number } | undefined {
  if (!isRelayableCandidate(candidate)) return undefined;
  const fields = normaliseCandidate(candidate).split(/\s+/);
  const realPort = Number(fields[PORT_FIELD]);
  fields[PORT_FIELD] = String(port);
  return { candidate: fields.join(' '), realPort };
}

/** Rewrites (or removes) the `a=candidate:` lines of an SDP blob; calls `learn` with every real port seen. */
export function rewriteSdp(sdp: string, port: number, learn: (realPort: number) => void): string {
  const lines = sdp.split('\r\n');
  const out: string[] = [];
  for (const line of lines) {
    if (!line.startsWith('a=candidate:')) {
      out.push(line);
      continue;
    }
    const r = rewriteCandidate(line.slice(2), port);
    if (!r) continue;
    learn(r.realPort);
    out.push(`a=${r.candidate}`);
  }
  return out.join('\r\n');
}

/**
 * Wraps the transport that carries one peer's messages so the other peer sees
 * `port` instead of the real candidate port; `learn` gets each real port.
 */
export function rewritingTransport(inner: SignalTransport, port: number, learn: (realPort: number) => void): SignalTransport {
  return {
    send(message: SignalMessage) {
      if (message.kind === 'candidate') {
        const r = rewriteCandidate(message.candidate.candidate, port);
        if (!r) return;
        learn(r.realPort);
        inner.send({ kind: 'candidate', candidate: { ...message.candidate, candidate: r.candidate } });
        return;
      }
      inner.send({ kind: 'description', description: { ...message.description, sdp: rewriteSdp(message.description.sdp, port, learn) } });
    },
    onMessage: (handler) => inner.onMessage(handler),
  };
}

/**
 * Connects offerer `a` and answerer `b` in this process with every datagram
 * going through a new path of `emulator`. Resolves with the path once both
 * peers are connected. Learning a port is awaited before the candidate leaves,
 * so the relay knows where to send before the first check can arrive.
 */
export async function connectThroughEmulator(
  a: RTCPeerConnection,
  b: RTCPeerConnection,
  emulator: LinkEmulatorApi,
  config: Omit<NegotiateConfig, 'role' | 'transport' | 'acceptCandidate'> = {},
): Promise<EmulatorPath> {
  const path = await emulator.addPath();
  const [ta, tb] = createLoopbackTransports();
  // Set when telling the emulator a port failed; fails the connect instead of timing out.
  let reportFailure: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (reportFailure = reject));
  // Learning happens on the emulator asynchronously: hold each message until its ports are known, in order.
  const ordered = (inner: SignalTransport, side: 'a' | 'b', port: number): SignalTransport => {
    let chain = Promise.resolve();
    return {
      send(message) {
        const learned: Promise<void>[] = [];
        const out: SignalMessage[] = [];
        const collect: SignalTransport = { send: (m) => out.push(m), onMessage: () => () => undefined };
        rewritingTransport(collect, port, (realPort) => learned.push(emulator.learn(path.id, side, realPort))).send(message);
        chain = chain
          .then(() => Promise.all(learned))
          .then(() => out.forEach((m) => inner.send(m)))
          .catch(reportFailure);
      },
      onMessage: (handler) => inner.onMessage(handler),
    };
  };
  // A's messages travel to B through ta: B must see the port that faces B.
  const toB = ordered(ta, 'a', path.portFacingB);
  const toA = ordered(tb, 'b', path.portFacingA);
  await Promise.race([
    failed,
    Promise.all([
      negotiate(a, { ...config, role: 'offerer', transport: toB, acceptCandidate: isRelayableCandidate }),
      negotiate(b, { ...config, role: 'answerer', transport: toA, acceptCandidate: isRelayableCandidate }),
    ]),
  ]);
  return path;
}

/** The lane options of both peers that put every in-band lane of a transfer through the emulator. */
export interface EmulatedLaneOptions {
  readonly sender: Pick<LaneOptions, 'acceptLaneCandidate' | 'rewriteLaneSignal'>;
  readonly receiver: Pick<LaneOptions, 'acceptLaneCandidate' | 'rewriteLaneSignal'>;
}

/**
 * The library opens in-band lanes itself (`createConnection`), signalled over the control channel: this
 * rewrites their candidates as {@link connectThroughEmulator} does for the app's connections. Each `offer`
 * (a lane number may be offered again after a drop) gets a new path of `emulator`; the sender is side `a`
 * (its candidates name `portFacingB`), the receiver side `b`. Every port is learned before the message that
 * names it leaves (`rewriteLaneSignal` keeps a lane's messages in order). Both peers live in this process.
 */
export function emulatedLaneOptions(emulator: LinkEmulatorApi): EmulatedLaneOptions {
  // The current path of each lane number.
  const paths = new Map<number, Promise<EmulatorPath>>();
  const rewrite =
    (side: 'a' | 'b') =>
    async (m: LaneSignalOut): Promise<string | undefined> => {
      if (m.kind === 'offer') paths.set(m.lane, emulator.addPath());
      const path = await paths.get(m.lane);
      if (!path) return undefined;
      const port = side === 'a' ? path.portFacingB : path.portFacingA;
      const learned: Promise<void>[] = [];
      const learn = (realPort: number) => learned.push(emulator.learn(path.id, side, realPort));
      let text: string | undefined;
      if (m.kind === 'candidate') {
        const r = rewriteCandidate(m.text, port);
        if (r) learn(r.realPort);
        text = r?.candidate;
      } else text = rewriteSdp(m.text, port, learn);
      await Promise.all(learned);
      return text;
    };
  return {
    sender: { acceptLaneCandidate: isRelayableCandidate, rewriteLaneSignal: rewrite('a') },
    receiver: { acceptLaneCandidate: isRelayableCandidate, rewriteLaneSignal: rewrite('b') },
  };
}
