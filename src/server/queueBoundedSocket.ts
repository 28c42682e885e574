/**
 * A WebSocket as the rendezvous sees it, whose `send` drops the socket once more than `maxQueuedBytes` wait
 * in its send buffer: a peer that does not read. Without it, what the other peer relays to such a socket
 * queued in the server without bound (an outside check: 15 rooms whose receivers never read took one server
 * from 67 MiB to 1 GiB in a minute, within the message-rate and frame-size limits). The socket is terminated
 * (a close frame would queue behind the rest), so its seat is freed and the other peer hears `peer-left`.
 */
import type { WebSocket } from 'ws';
import type { RendezvousSocket } from './createRendezvous';

export function queueBoundedSocket(socket: WebSocket, maxQueuedBytes: number): RendezvousSocket {
  return {
    send(text) {
      if (socket.bufferedAmount + Buffer.byteLength(text) > maxQueuedBytes) socket.terminate();
      else socket.send(text);
    },
    close: (code, reason) => socket.close(code, reason),
  };
}
