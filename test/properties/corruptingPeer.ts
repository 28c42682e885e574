/**
 * A peer-connection wrapper whose data channels corrupt chosen chunks on the
 * way out: a payload bit of every copy (first send and retransmissions) of one
 * chunk index is flipped, up to a number of copies. The header stays intact, so
 * the receiver knows which chunk failed its CRC-32.
 */
import { CONTROL_LABEL, FRAME_HEADER_SIZE, type PeerConnectionLike } from '../../src/index';
import type { VirtualPeer } from '../../src/testing';

/** What {@link corruptingPeer} did. */
export interface CorruptingPeer {
  readonly peer: PeerConnectionLike;
  /** Copies of the victim chunk sent so far (corrupted or not). */
  readonly copies: number;
  /** Copies corrupted so far. */
  readonly corrupted: number;
}

/**
 * Wraps `peer` so that the first `corruptCopies` copies of chunk `victim`
 * leave with bit 0 of their first payload byte flipped (`Infinity`: every copy).
 */
export function corruptingPeer(peer: VirtualPeer, victim: number, corruptCopies: number): CorruptingPeer {
  let copies = 0;
  let corrupted = 0;
  const wrapped: PeerConnectionLike = {
    sctp: peer.sctp,
    get connectionState() {
      return peer.connectionState;
    },
    addEventListener: (type, listener) => peer.addEventListener(type, listener),
    removeEventListener: (type, listener) => peer.removeEventListener(type, listener),
    close: () => peer.close(),
    createDataChannel: (label, init) => {
      const channel = peer.createDataChannel(label, init);
      if (label === CONTROL_LABEL) return channel;
      const send = channel.send.bind(channel);
      channel.send = (data: string | ArrayBuffer | ArrayBufferView) => {
        const frame = data as Uint8Array;
        const index = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8);
        if (index !== victim || frame.byteLength <= FRAME_HEADER_SIZE) return send(frame);
        copies++;
        if (corrupted >= corruptCopies) return send(frame);
        corrupted++;
        const copy = frame.slice();
        copy[FRAME_HEADER_SIZE] ^= 1;
        return send(copy);
      };
      return channel;
    },
  };
  return {
    peer: wrapped,
    get copies() {
      return copies;
    },
    get corrupted() {
      return corrupted;
    },
  };
}
