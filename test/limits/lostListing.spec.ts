/**
 * A stack that loses one message of an offer's listing. libdatachannel was seen to drop one `entry` of a
 * burst of a thousand on an ordered, reliable control channel (the many-files bench, after the pair had
 * carried a few hundred sessions: "entry 84 out of order: expected entry 83"). Nothing is answered during
 * the listing, so the receiver handles it as a lost offer: it closes that control channel unanswered and
 * takes the next, and the sender offers the whole session again on a new one (docs/protocol.md,
 * control-channel replacement). A sender whose listings keep breaking gets a ProtocolError, not a loop.
 * Virtual time; the lost message is dropped by a wrapper on the sender's control channel.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { receiveFiles, sendFiles, type SessionEvent } from '../../src/index';
import { parseControl, type ControlMessage } from '../../src/protocol/control';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { describeFile } from '../../src/transfer/fileInput';
import { CONTROL_LABEL } from '../../src/transfer/transferChannels';
import { pattern } from '../helpers/marbles';
import { sha256Hex } from '../helpers/sha256';

const FILES = Array.from({ length: 12 }, (_, i) => ({ name: `d/f${i}.bin`, bytes: pattern(1000 + i * 517, i + 1) }));
const SET = { files: FILES.map((f) => describeFile(f.bytes, { name: f.name, lastModified: 1 })), folders: ['empty/'] };

/**
 * Drops, on the sender's control channels, the messages `lose(msg, channel)` picks (channel: 0 for the
 * first control channel, 1 for the second, …). Returns how many control channels the sender opened.
 */
function losing(l: VirtualLink, lose: (msg: ControlMessage, channel: number) => boolean): () => number {
  let channels = 0;
  const create = l.a.createDataChannel.bind(l.a);
  l.a.createDataChannel = ((label: string, init?: RTCDataChannelInit) => {
    const ch = create(label, init);
    if (label !== CONTROL_LABEL) return ch;
    const n = channels++;
    const send = ch.send.bind(ch);
    ch.send = ((data: string) => {
      if (!lose(parseControl(data), n)) send(data);
    }) as typeof ch.send;
    return ch;
  }) as typeof l.a.createDataChannel;
  return () => channels;
}

/** Runs one session over a virtual link whose sender loses what `lose` picks; returns both sides' events or errors. */
function run(lose: (msg: ControlMessage, channel: number) => boolean) {
  const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
  const sent: (SessionEvent | { type: 'error'; error: unknown })[] = [];
  const received: (SessionEvent | { type: 'error'; error: unknown })[] = [];
  let channels = () => 0;
  ts.run(() => {
    const l = createVirtualLink({ delayMs: 10, scheduler: ts });
    channels = losing(l, lose);
    receiveFiles(l.b, { scheduler: ts }).subscribe({ next: (e) => received.push(e), error: (error) => received.push({ type: 'error', error }) });
    sendFiles(l.a, SET, { scheduler: ts, channels: 2 }).subscribe({ next: (e) => sent.push(e), error: (error) => sent.push({ type: 'error', error }) });
  });
  return { sent, received, channels: channels() };
}

const completedDigests = (events: readonly { type: string }[]) => {
  const done = events.find((e) => e.type === 'completed') as Extract<SessionEvent, { type: 'completed' }> | undefined;
  return done && Object.fromEntries(done.files.map((f) => [f.manifest.name, f.sha256]));
};
const expected = Object.fromEntries(FILES.map((f) => [f.name, sha256Hex(f.bytes)]));

describe('a message of the listing lost under the session', () => {
  it('an entry lost: the receiver drops the listing and the sender offers again on a new control channel', () => {
    const { sent, received, channels } = run((m, ch) => ch === 0 && m.t === 'entry' && m.i === 5);
    expect(channels).toBe(2);
    expect(completedDigests(sent)).toEqual(expected);
    expect(completedDigests(received)).toEqual(expected);
    // The user saw one offer, not a broken one and then another.
    expect(received.filter((e) => e.type === 'offer')).toHaveLength(1);
  });

  it('the last entry lost (a folder comes first): the same', () => {
    const { sent, received, channels } = run((m, ch) => ch === 0 && m.t === 'entry' && m.i === FILES.length - 1);
    expect(channels).toBe(2);
    expect(completedDigests(sent)).toEqual(expected);
    expect(completedDigests(received)).toEqual(expected);
  });

  it('the last folder lost (the listing never ends): the sender hears nothing, offers again, and the receiver takes the new channel', () => {
    const { sent, received, channels } = run((m, ch) => ch === 0 && m.t === 'folder');
    expect(channels).toBe(2);
    expect(completedDigests(sent)).toEqual(expected);
    expect(completedDigests(received)).toEqual(expected);
  });

  it('a listing that breaks on every channel ends in a ProtocolError on both sides, after a bounded number of channels', () => {
    const { sent, received, channels } = run((m) => m.t === 'entry' && m.i === 2);
    expect(channels).toBeLessThanOrEqual(5);
    const rx = received.find((e) => e.type === 'error') as { error: unknown } | undefined;
    const tx = sent.find((e) => e.type === 'error') as { error: unknown } | undefined;
    expect(rx?.error).toBeInstanceOf(ProtocolError);
    expect((tx?.error as { code?: string })?.code).toBe("ERR_PROTOCOL");
    expect(received.some((e) => e.type === 'offer')).toBe(false);
  });
});
