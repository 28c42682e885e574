/**
 * Signalling for the real-WebRTC harness: the library's loopback negotiation (`src/connect/`,
 * which `connectLoopbackPair` in `tallow-rx/node` is built on) plus a WebSocket transport for
 * Chromium ↔ Node.
 *
 * Environment-neutral on purpose: no `node:` imports, so the same code runs in Node
 * (node-datachannel's polyfill) and inside the Chromium page (esbuild bundles it into the page
 * harness). One implementation serves all three transports: in-process
 * (`createLoopbackTransports`), JSON lines over a child's stdin/stdout (`spawnPeer`) and a
 * loopback WebSocket (Chromium ↔ Node). The gotchas `negotiate` works around are listed in
 * src/connect/negotiate.ts.
 */
import type { SignalMessage, SignalTransport } from '../src/connect/negotiate';

export { connectInProcess, createLoopbackTransports } from '../src/connect/connectInProcess';
export { isLoopbackUdpCandidate, normaliseCandidate } from '../src/connect/loopbackCandidates';
export {
  BOOTSTRAP_CHANNEL_ID,
  NEGOTIATE_TIMEOUT_MS,
  negotiate,
  type CandidateMessage,
  type DescriptionMessage,
  type NegotiateConfig,
  type SignalMessage,
  type SignalTransport,
} from '../src/connect/negotiate';

/** The part of a WebSocket (browser or the `ws` package) that {@link createWebSocketTransport} uses. */
export interface WebSocketLike {
  send(data: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/**
 * A {@link SignalTransport} over a WebSocket carrying one JSON message per text frame.
 *
 * Messages that arrive before the first handler registers are queued and delivered to it:
 * the page sends its offer as soon as the socket opens, possibly before the Node side
 * has called `negotiate()`.
 */
export function createWebSocketTransport(socket: WebSocketLike): SignalTransport {
  const handlers = new Set<(m: SignalMessage) => void>();
  // Messages not yet delivered, in arrival order.
  const early: SignalMessage[] = [];
  const flush = (): void => {
    if (!handlers.size) return;
    for (const message of early.splice(0)) handlers.forEach((h) => h(message));
  };
  socket.addEventListener('message', (event) => {
    early.push(JSON.parse(String(event.data)) as SignalMessage);
    flush();
  });
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    onMessage(handler) {
      handlers.add(handler);
      // Deliver the backlog on a later turn, so the caller finishes its own setup first.
      if (early.length) setTimeout(flush, 0);
      return () => handlers.delete(handler);
    },
  };
}
