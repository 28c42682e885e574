/**
 * Limit: control messages (manifest included) are at most MAX_CONTROL_MESSAGE
 * (64 KiB) characters. A bigger one from the peer ends the transfer with
 * ProtocolError, before or after the offer; nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, receiveFile } from '../../src/index';
import { encodeControl, MAX_CONTROL_MESSAGE } from '../../src/protocol';
import { directoryTarget } from '../../src/node';
import { HostileSender, listDir, manifestOf, offerMessages, watch, within } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';

/** A valid offer padded with JSON whitespace to exactly `length` characters. */
const paddedOffer = (length: number, id = 7): string => {
  const text = encodeControl(offerMessages(manifestOf({ id }))[0]);
  return text + ' '.repeat(length - text.length);
};

describe('limit: control message size (MAX_CONTROL_MESSAGE)', () => {
  it('is 64 KiB', () => {
    expect(MAX_CONTROL_MESSAGE).toBe(64 * 1024);
  });

  it('an offer of MAX_CONTROL_MESSAGE + 1 characters ends the receiver with ProtocolError; nothing is written', async () => {
    const { dir } = await inbox();
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b, { target: directoryTarget(dir) }));
    await s.opened();
    s.send(paddedOffer(MAX_CONTROL_MESSAGE + 1));
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect((r.error() as ProtocolError).details.length).toBe(MAX_CONTROL_MESSAGE + 1);
    expect(r.events).toEqual([]);
    expect(s.received.filter((m) => m.t === 'accept')).toEqual([]);
    expect(await listDir(dir)).toEqual([]);
  });

  it('an offer of exactly MAX_CONTROL_MESSAGE characters is accepted (the boundary)', async () => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFile(s.link.b));
    await s.opened();
    s.send(paddedOffer(MAX_CONTROL_MESSAGE));
    s.send(offerMessages(manifestOf({ id: 7 }))[1]);
    const accept = await s.next('accept');
    expect(accept.id).toBe(7);
    expect(r.error()).toBeUndefined();
    r.stop();
  });

  it('an oversized message in the middle of a transfer ends it with ProtocolError', async () => {
    const s = closeAfter(new HostileSender());
    const m = manifestOf({ size: 8192 });
    const r = watch(receiveFile(s.link.b));
    await s.handshake(m);
    s.frame(m.id, 0, 0, new Uint8Array(4096));
    // A `cancel` whose reason pads it past the limit: valid JSON, valid type, too big.
    s.send(JSON.stringify({ t: 'cancel', id: m.id, reason: 'x'.repeat(MAX_CONTROL_MESSAGE) }));
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(r.events.some((e) => e.type === 'completed')).toBe(false);
  });
});
