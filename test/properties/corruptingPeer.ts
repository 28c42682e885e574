/**
 * A peer-connection wrapper whose data channels corrupt chosen chunks on the
 * way out: a payload bit of every copy (first send and retransmissions) of one
 * chunk index is flipped, up to a number of copies. The header stays intact, so
 * the receiver knows which chunk failed its CRC-32.
 */
import { type PeerConnectionLike } from '../../src/index';
import { FRAME_HEADER_SIZE } from '../../src/protocol';
import type { VirtualPeer } from '../../src/testing';
import { frameIndex, tamperingPeer } from './tamperingPeer';

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
  const wrapped = tamperingPeer(peer, (frame) => {
    if (frame.byteLength <= FRAME_HEADER_SIZE || frameIndex(frame) !== victim) return frame;
    copies++;
    if (corrupted >= corruptCopies) return frame;
    corrupted++;
    const copy = frame.slice();
    copy[FRAME_HEADER_SIZE] ^= 1;
    return copy;
  });
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
