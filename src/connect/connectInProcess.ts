/**
 * Signalling between two peer connections of the same process (or page): an in-memory pipe.
 * Environment-neutral (no `node:` imports).
 */
import { negotiate, type NegotiateConfig, type SignalMessage, type SignalTransport } from './negotiate';

/**
 * Two connected in-memory transports. Delivery is asynchronous (a macrotask), like a real pipe,
 * and every message is round-tripped through JSON so nothing non-serialisable sneaks through.
 *
 * @return `[end a, end b]`: what one end sends, the other end's handlers receive.
 */
export function createLoopbackTransports(): [SignalTransport, SignalTransport] {
  const handlers: [Set<(m: SignalMessage) => void>, Set<(m: SignalMessage) => void>] = [new Set(), new Set()];
  const side = (mine: number): SignalTransport => ({
    send(message) {
      const copy = JSON.parse(JSON.stringify(message)) as SignalMessage;
      setTimeout(() => handlers[1 - mine].forEach((h) => h(copy)), 0);
    },
    onMessage(handler) {
      handlers[mine].add(handler);
      return () => handlers[mine].delete(handler);
    },
  });
  return [side(0), side(1)];
}

/**
 * Connects two peer connections in the same realm through {@link createLoopbackTransports}.
 *
 * @see negotiate
 * @param offerer A fresh peer connection; it makes the offer (and the bootstrap channel unless `bootstrap: false`).
 * @param answerer A fresh peer connection; it answers.
 * @param config Candidate filter, timeout, bootstrap, as for {@link negotiate}.
 * @return Resolves once both are connected.
 */
export async function connectInProcess(offerer: RTCPeerConnection, answerer: RTCPeerConnection, config: Omit<NegotiateConfig, 'role' | 'transport'> = {}): Promise<void> {
  const [ta, tb] = createLoopbackTransports();
  await Promise.all([negotiate(offerer, { ...config, role: 'offerer', transport: ta }), negotiate(answerer, { ...config, role: 'answerer', transport: tb })]);
}
