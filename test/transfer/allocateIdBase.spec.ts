/**
 * Which negotiated data-channel ids a sender takes (docs/protocol.md: the parity of the control channel's stream
 * id, even for the DTLS client and odd for the server, picks 512-767 or 768-1023, so two peers sending to each
 * other at once never collide). The id is often unknown before the channel opens (node-datachannel reads 65535),
 * so the DTLS role from the descriptions' `a=setup` decides; a connection not negotiated yet takes blocks from the
 * top down. Before, both of an outside check's peers took 512 and both sessions idled out.
 */
import { describe, expect, it } from 'vitest';
import { allocateIdBase, dtlsParity } from '../../src/transfer/transferChannels';
import type { PeerConnectionLike } from '../../src/types';

const sdp = (setup: string) => ({ type: 'offer', sdp: `v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=setup:${setup}\r\n` });
const pc = (local?: string, remote?: string) => ({ localDescription: local && sdp(local), remoteDescription: remote && sdp(remote) }) as unknown as PeerConnectionLike;

describe('dtlsParity', () => {
  it.each([
    ['active', undefined, 0],
    ['passive', undefined, 1],
    ['actpass', 'active', 1],
    ['actpass', 'passive', 0],
    ['actpass', undefined, undefined],
    [undefined, undefined, undefined],
  ])('local %s, remote %s: %s', (local, remote, parity) => {
    expect(dtlsParity(pc(local, remote))).toBe(parity);
  });
});

describe('allocateIdBase', () => {
  it('a known stream id decides: even 512, odd 768', () => {
    expect(allocateIdBase([pc()], undefined, 0).idBase).toBe(512);
    expect(allocateIdBase([pc()], undefined, 1).idBase).toBe(768);
  });

  it('an unknown stream id (65535): the DTLS role decides, client 512, server 768', () => {
    expect(allocateIdBase([pc('active', 'actpass')], undefined, 65535).idBase).toBe(512);
    expect(allocateIdBase([pc('actpass', 'active')], undefined, null).idBase).toBe(768);
  });

  it('neither known (not negotiated yet): the top block, 1008, clear of where both halves start', () => {
    const unknown = allocateIdBase([pc()], undefined, 65535).idBase;
    expect(unknown).toBe(1008);
    const client = allocateIdBase([pc('active')], undefined, undefined).idBase;
    const server = allocateIdBase([pc('passive')], undefined, undefined).idBase;
    expect(new Set([unknown, client, server]).size).toBe(3);
  });

  it('consecutive transfers on one connection rotate through their half (and from the top down when unknown)', () => {
    const conn = pc('active');
    const first = allocateIdBase([conn], undefined, undefined);
    const second = allocateIdBase([conn], undefined, undefined);
    expect([first.idBase, second.idBase]).toEqual([512, 528]);
    const blind = pc();
    expect([allocateIdBase([blind]).idBase, allocateIdBase([blind]).idBase]).toEqual([1008, 992]);
  });
});
