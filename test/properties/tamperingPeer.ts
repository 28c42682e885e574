/**
 * A peer-connection wrapper that lets a test change each data frame on its way
 * out, before the (virtual) channel sees it. The control channel is left alone.
 */
import type { PeerConnectionLike } from '../../src/index';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import type { VirtualPeer } from '../../src/testing';

/**
 * Wraps `peer`: every frame sent on a data channel it creates goes through
 * `tamper` first, which returns the bytes to send (the frame itself, or a
 * changed copy; never change the frame in place, the sender keeps it for
 * retransmission).
 */
export function tamperingPeer(peer: VirtualPeer, tamper: (frame: Uint8Array) => Uint8Array): PeerConnectionLike {
  return {
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
      channel.send = (data: string | ArrayBuffer | ArrayBufferView) => send(tamper(data as Uint8Array));
      return channel;
    },
  };
}

/** Chunk index of a data frame (header bytes 8-11). */
export const frameIndex = (frame: Uint8Array): number => new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8);
