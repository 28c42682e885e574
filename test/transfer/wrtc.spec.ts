/**
 * sendFile / receiveFile over @roamhq/wrtc (libwebrtc in Node): a second real
 * stack with other quirks (no bufferedamountlow event, so backpressure runs on
 * its poll; real message loss in unreliable mode on loopback, so NACKs run).
 * ICE stays on 127.0.0.1: only UDP 127.0.0.1 candidates are exchanged.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveFile, sendFile } from '../../src/index';
import { completedOf as completed } from '../helpers/events';
import { sha256Hex as sha256 } from '../helpers/sha256';

const require = createRequire(import.meta.url);
const wrtc = require('@roamhq/wrtc');
const MiB = 1024 * 1024;

/** Connects two wrtc peers on 127.0.0.1 (a negotiated bootstrap channel makes the SCTP association). */
async function connectPair(): Promise<[any, any]> {
  const a = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b = new wrtc.RTCPeerConnection({ iceServers: [] });
  const forward = (from: any, to: any) =>
    from.addEventListener('icecandidate', (e: any) => {
      const c = e.candidate?.candidate as string | undefined;
      if (c && / udp /i.test(c) && / 127\.0\.0\.1 /.test(c)) to.addIceCandidate(e.candidate).catch(() => undefined);
    });
  forward(a, b);
  forward(b, a);
  a.createDataChannel('bootstrap', { negotiated: true, id: 1023 });
  b.createDataChannel('bootstrap', { negotiated: true, id: 1023 });
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrtc did not connect: ${a.connectionState}/${b.connectionState}`)), 15_000);
    const check = () => {
      if (a.connectionState === 'connected' && b.connectionState === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    };
    a.addEventListener('connectionstatechange', check);
    b.addEventListener('connectionstatechange', check);
    check();
  });
  return [a, b];
}

let a: any;
let b: any;
beforeAll(async () => {
  [a, b] = await connectPair();
});
afterAll(() => {
  a?.close();
  b?.close();
});

describe('@roamhq/wrtc', () => {
  it.each([
    [0, 'reliable'],
    [MiB + 7, 'reliable'],
    [32 * MiB, 'reliable'],
    [8 * MiB, 'unreliable'],
  ] as const)('%i bytes, %s, arrive intact', async (size, reliability) => {
    const data = randomBytes(size);
    const sha = sha256(data);
    const [sent, received] = await Promise.all([
      lastValueFrom(sendFile(a, data, { channels: 2, reliability }).pipe(toArray())),
      lastValueFrom(receiveFile(b).pipe(toArray())),
    ]);
    const got = new Uint8Array(await (completed(received)!.result as Blob).arrayBuffer());
    expect(sha256(got)).toBe(sha);
    expect(completed(sent)!.sha256).toBe(sha);
    expect(completed(received)!.sha256).toBe(sha);
  });
});
