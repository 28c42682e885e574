/**
 * shortAuthString: parsing (unit), equal on both ends of a real node-datachannel connection, and
 * different when a man in the middle terminates DTLS with each side (two node-datachannel
 * connections, A ⇄ M1 and M2 ⇄ B, with M relaying messages between them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FingerprintError, InvalidConfigError, parseFingerprints, shortAuthString } from '../../src/index';
import { connectLoopbackPair, type LoopbackPair } from '../../src/node';
import { thrownBy } from '../helpers/thrown';

const FP_A = 'sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const FP_B = 'sha-256 10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE';
const FP_M = 'sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF';
const sdp = (...fingerprints: string[]): string =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', ...fingerprints.map((f) => `a=fingerprint:${f}`), 'a=setup:actpass', ''].join('\r\n');

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FingerprintError);
    return (e as FingerprintError).code;
  }
  throw new Error('did not reject');
};

describe('parseFingerprints', () => {
  it('reads session- and media-level lines, canonical (lowercase algorithm, uppercase hex), deduplicated and sorted', () => {
    const text = `${sdp(FP_B.toLowerCase(), FP_A)}a=fingerprint:${FP_B}\r\n`;
    expect(parseFingerprints(text)).toEqual([
      { algorithm: 'sha-256', hex: FP_B.split(' ')[1] },
      { algorithm: 'sha-256', hex: FP_A.split(' ')[1] },
    ]);
  });

  it('throws ERR_FINGERPRINT_MISSING for an SDP without one', () => {
    expect(() => parseFingerprints(sdp(), 'local')).toThrow(FingerprintError);
    expect(() => parseFingerprints('not an sdp', 'local')).toThrow(/local SDP has no a=fingerprint/);
  });

  it.each([
    ['a digest of the wrong length', 'sha-256 AB:CD'],
    ['non-hex digits', FP_A.replace('AB', 'XZ')],
    ['an unknown hash function', FP_A.replace('sha-256', 'sha-999')],
    ['no digest at all', 'sha-256'],
    ['single hex digits', 'sha-1 A:B:C'],
  ])('throws ERR_FINGERPRINT_MALFORMED for %s', (_what, line) => {
    const error = thrownBy(() => parseFingerprints(sdp(line), 'remote'));
    expect(error).toBeInstanceOf(FingerprintError);
    expect(error).toMatchObject({ name: 'FingerprintError', code: 'ERR_FINGERPRINT_MALFORMED', details: { which: 'remote' } });
  });
});

describe('shortAuthString (unit)', () => {
  it('is the same from either end (order-independent) and six digits in two groups by default', async () => {
    const atA = await shortAuthString(sdp(FP_A), sdp(FP_B));
    const atB = await shortAuthString(sdp(FP_B), sdp(FP_A));
    expect(atA).toMatch(/^\d{3} \d{3}$/);
    expect(atB).toBe(atA);
  });

  it('changes when either fingerprint changes', async () => {
    const real = await shortAuthString(sdp(FP_A), sdp(FP_B));
    expect(await shortAuthString(sdp(FP_A), sdp(FP_M))).not.toBe(real);
    expect(await shortAuthString(sdp(FP_M), sdp(FP_B))).not.toBe(real);
  });

  it('covers every lane: one SDP per connection, in any order', async () => {
    const lanes = await shortAuthString([sdp(FP_A), sdp(FP_M)], [sdp(FP_B)]);
    expect(await shortAuthString([sdp(FP_B)], [sdp(FP_M), sdp(FP_A)])).toBe(lanes);
    expect(lanes).not.toBe(await shortAuthString(sdp(FP_A), sdp(FP_B)));
  });

  it('takes digits and grouping', async () => {
    expect(await shortAuthString(sdp(FP_A), sdp(FP_B), { digits: 8, groupDigits: 4 })).toMatch(/^\d{4} \d{4}$/);
    expect(await shortAuthString(sdp(FP_A), sdp(FP_B), { digits: 4, groupDigits: 0 })).toMatch(/^\d{4}$/);
    await expect(shortAuthString(sdp(FP_A), sdp(FP_B), { digits: 3 })).rejects.toThrow(InvalidConfigError);
  });

  it('rejects with a typed error for a missing or malformed fingerprint, naming the side', async () => {
    expect(await codeOf(shortAuthString(sdp(), sdp(FP_B)))).toBe('ERR_FINGERPRINT_MISSING');
    expect(await codeOf(shortAuthString(sdp(FP_A), []))).toBe('ERR_FINGERPRINT_MISSING');
    expect(await codeOf(shortAuthString(sdp(FP_A), sdp('sha-256 12:34')))).toBe('ERR_FINGERPRINT_MALFORMED');
    await expect(shortAuthString(sdp(FP_A), sdp())).rejects.toMatchObject({ details: { which: 'remote' } });
  });
});

/** Resolves with the first message `channel` receives, as text. */
const nextMessage = (channel: RTCDataChannel): Promise<string> =>
  new Promise((resolve) => channel.addEventListener('message', (e) => resolve(String((e as MessageEvent).data)), { once: true }));
const opened = (channel: RTCDataChannel): Promise<void> =>
  new Promise((resolve) => (channel.readyState === 'open' ? resolve() : channel.addEventListener('open', () => resolve(), { once: true })));
const sasOf = (pc: RTCPeerConnection): Promise<string> => shortAuthString(pc.localDescription!.sdp, pc.remoteDescription!.sdp);

describe('shortAuthString on real node-datachannel connections (127.0.0.1)', () => {
  const pairs: LoopbackPair[] = [];
  afterEach(async () => {
    await Promise.all(pairs.splice(0).map((p) => p.close()));
  });

  it('is equal on both ends of a direct connection, over one lane and over two', async () => {
    const one = await connectLoopbackPair();
    const two = await connectLoopbackPair({ lanes: 2 });
    pairs.push(one, two);
    const [a, b] = await Promise.all([sasOf(one.a[0]), sasOf(one.b[0])]);
    expect(a).toMatch(/^\d{3} \d{3}$/);
    expect(b).toBe(a);
    const sdps = (pcs: RTCPeerConnection[], which: 'localDescription' | 'remoteDescription'): string[] => pcs.map((pc) => pc[which]!.sdp);
    const a2 = await shortAuthString(sdps(two.a, 'localDescription'), sdps(two.a, 'remoteDescription'));
    const b2 = await shortAuthString(sdps(two.b, 'localDescription'), sdps(two.b, 'remoteDescription'));
    expect(b2).toBe(a2);
  });

  it('differs when a man in the middle terminates DTLS with each side, although messages get through', async () => {
    // A ⇄ M1 and M2 ⇄ B: M holds both middle ends and relays what arrives on one to the other.
    const left = await connectLoopbackPair();
    const right = await connectLoopbackPair();
    pairs.push(left, right);
    const [a, m1] = [left.a[0], left.b[0]];
    const [m2, b] = [right.a[0], right.b[0]];
    const options = { negotiated: true, id: 1 } as const;
    const [atA, atM1, atM2, atB] = [a, m1, m2, b].map((pc) => pc.createDataChannel('chat', options));
    await Promise.all([atA, atM1, atM2, atB].map(opened));
    atM1.addEventListener('message', (e) => atM2.send(String((e as MessageEvent).data)));
    atM2.addEventListener('message', (e) => atM1.send(String((e as MessageEvent).data)));
    const toB = nextMessage(atB);
    atA.send('hello B, this is A');
    expect(await toB).toBe('hello B, this is A');
    const toA = nextMessage(atA);
    atB.send('hello A');
    expect(await toA).toBe('hello A');

    // Each side's connection is fine on its own: A and M1 agree, M2 and B agree ...
    const [sasA, sasM1, sasM2, sasB] = await Promise.all([a, m1, m2, b].map(sasOf));
    expect(sasM1).toBe(sasA);
    expect(sasM2).toBe(sasB);
    // ... but the strings A and B show differ: the people comparing them see the middle.
    expect(sasB).not.toBe(sasA);
    // The certificates really differ end to end (not just the hash input).
    const remoteOfA = parseFingerprints(a.remoteDescription!.sdp)[0].hex;
    const localOfB = parseFingerprints(b.localDescription!.sdp)[0].hex;
    expect(remoteOfA).not.toBe(localOfB);
  });
});

describe('shortAuthString: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', async () => {
    const error = await shortAuthString('', '', null as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'shortAuthString: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
