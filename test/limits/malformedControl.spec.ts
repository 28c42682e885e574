/**
 * Limit: a malformed control message from the peer (not JSON, binary, an
 * unknown type, a field out of range, an unsupported version) ends the transfer
 * with ProtocolError: no crash, no hang, channels closed, and no file completed.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, receiveFile } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { HostileSender, listDir, manifestOf, offerMessages, sleep, watch, within } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';

const M = manifestOf({ size: 16 * 1024, chunk: { min: 4096, max: 4096 } });
const [offer, entry] = offerMessages(M);

/** Malformed messages: raw text or bytes exactly as sent. */
const MALFORMED: [string, string | Uint8Array][] = [
  ['not JSON', 'hello'],
  ['truncated JSON', JSON.stringify(offer).slice(0, 40)],
  ['a JSON array', '[1,2,3]'],
  ['JSON null', 'null'],
  ['binary on the control channel', new Uint8Array([123, 125])],
  ['an unknown type', JSON.stringify({ t: 'exec', id: M.id })],
  ['an unsupported version', JSON.stringify({ ...offer, v: 2 })],
  ['a negative size', JSON.stringify({ ...entry, size: -1 })],
  ['size beyond 2^53', JSON.stringify({ ...entry, size: 2 ** 60 })],
  ['17 channels', JSON.stringify({ ...offer, channels: 17 })],
  ['channel ids beyond 1023', JSON.stringify({ ...offer, idBase: 1020, channels: 8 })],
  ['a name of 1025 characters', JSON.stringify({ ...entry, name: 'n'.repeat(1025) })],
  ['an uppercase digest', JSON.stringify({ t: 'done', id: M.id, i: 0, chunks: 1, bytes: 1, sha256: 'A'.repeat(64) })],
  ['a nack of 4097 entries', JSON.stringify({ t: 'nack', id: M.id, i: 0, chunks: Array.from({ length: 4097 }, (_, i) => i) })],
  ['a deeply nested type', `{"t":${'['.repeat(5000)}${']'.repeat(5000)}}`],
];

/** Waits until every channel of the receiver's endpoint is closed. */
const allClosed = async (s: HostileSender): Promise<boolean> => {
  for (let i = 0; i < 50; i++) {
    if (s.link.b.channels.every((ch) => ch.readyState === 'closed')) return true;
    await sleep(10);
  }
  return false;
};

describe('limit: a malformed control message from the peer', () => {
  it.each(MALFORMED)('before the offer: %s → ProtocolError', async (_, raw) => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b));
    await s.opened();
    s.send(raw);
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(r.events.map((e) => e.type)).not.toContain('started');
    expect(await allClosed(s)).toBe(true);
  });

  it.each(MALFORMED)('mid-transfer, into a directory: %s → ProtocolError, no finished file', async (_, raw) => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b, { target: directoryTarget(dir) }));
    await s.handshake(M);
    s.frame(M.id, 0, 0, new Uint8Array(4096).fill(1));
    s.send(raw);
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(r.events.map((e) => e.type)).not.toContain('completed');
    // Only the partial file and its progress record (kept for resume), never the finished name.
    expect((await listDir(dir)).filter((f) => !f.includes('.tallow-part'))).toEqual([]);
    // The peer is told before the channels close: an `error` with ERR_PROTOCOL for this transfer.
    const told = await s.next('error');
    expect(told).toMatchObject({ id: M.id, code: 'ERR_PROTOCOL' });
    expect(await allClosed(s)).toBe(true);
  });

  it.each([
    ['a negative total', { bytes: -1 }, /field 'bytes' must be an integer in \[0, /],
    ['a fractional total', { bytes: 1.5 }, /field 'bytes'/],
    ['17 channels', { channels: 17 }, /field 'channels' must be an integer in \[1, 16\]/],
    ['0 lanes', { lanes: 0 }, /field 'lanes' must be an integer in \[1, 16\]/],
  ])('an offer with %s but a valid id is answered with an error for that id, then the receiver closes', async (_, patch, message) => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b));
    await s.opened();
    s.send(JSON.stringify({ ...offer, ...patch }));
    const told = await s.next('error');
    expect(told).toMatchObject({ id: M.id, code: 'ERR_PROTOCOL' });
    expect(told.message).toMatch(message);
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(await allClosed(s)).toBe(true);
  });

  it("an offer whose data-channel ids include the control channel's stream is refused before any channel is made", async () => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b));
    await s.opened();
    const stream = s.control.id;
    expect(stream).toBeLessThan(16);
    s.send(JSON.stringify({ ...offer, idBase: 0, channels: 16 }));
    s.send(JSON.stringify(entry));
    const told = await s.next('reject');
    expect(told.reason).toMatch(new RegExp(`include the control channel's \\(${stream}\\)`));
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(r.error()).toMatchObject({ details: { idBase: 0, stream } });
    // Only the control channel was ever made on the receiver's side.
    expect(s.link.b.channels.filter((ch) => ch.negotiated)).toEqual([]);
  });

  it('a version-2 offer (one file, no entries) is answered with an error naming both versions, then the receiver closes', async () => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b));
    await s.opened();
    // What a 0.1 peer sends: the version-2 one-file offer.
    const { session: _s, index: _i, parallel: _p, ...v2 } = M;
    s.send(JSON.stringify({ t: 'offer', v: 2, ...v2 }));
    const told = await s.next('error');
    expect(told).toMatchObject({ id: M.id, code: 'ERR_PROTOCOL' });
    expect(told.message).toMatch(/version 2.*version 3/);
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(await allClosed(s)).toBe(true);
  });
});
