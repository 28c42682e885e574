/**
 * Limit: a session resumed on new connections is answered without asking the user again, so its offer must
 * list what the user answered before. A peer that re-offers other files under the same id (to slip a file
 * past the user's choice) is refused: `reject` with the difference, and the receiver fails with ProtocolError.
 */
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ProtocolError, receiveFiles, type SessionEvent } from '../../src/index';
import { CONTROL_VERSION, type ControlMessage } from '../../src/protocol/control';
import { HostileSender, watch, within } from './hostileSender';
import { closeAfter } from './tmpDirs';

const ID = 3333;
const SETTINGS = { channels: 1, lanes: 1, idBase: 600, reliability: 'reliable', chunk: { min: 1024, max: 65_536 }, digest: 'sha-256', window: 16 << 20, parallel: 1 } as const;
type Entry = { name: string; size: number };

/** The offer of `entries` (and `folders`) under session {@link ID}, as the messages a sender sends. */
const offerOf = (entries: readonly Entry[], folders: readonly string[] = []): ControlMessage[] => [
  { t: 'offer', v: CONTROL_VERSION, id: ID, files: entries.length, folders: folders.length, bytes: entries.reduce((n, e) => n + e.size, 0), ...SETTINGS },
  ...entries.map((e, i): ControlMessage => ({ t: 'entry', id: ID, i, name: e.name, size: e.size, type: 'text/plain', lastModified: 1_700_000_000_000 })),
  ...folders.map((name): ControlMessage => ({ t: 'folder', id: ID, name })),
];

/** Session 1 offers `first` on one link, the user takes a.txt only, the link dies; session 1 goes on over a second link. */
async function resumeWith(first: readonly Entry[], second: readonly Entry[], folders: [string[], string[]] = [[], []]) {
  const s1 = closeAfter(new HostileSender());
  // The second link is made when the receiver asks for it: a control channel announced before the receiver
  // listens on a connection is never seen (docs/protocol.md, control-channel replacement).
  let s2!: HostileSender;
  const asked: string[][] = [];
  const r = watch(
    receiveFiles(s1.link.b, {
      reconnect: () => of((s2 = closeAfter(new HostileSender())).link.b),
      accept: (offer) => (asked.push(offer.files.map((f) => f.name)), offer.files.filter((f) => f.name === 'a.txt')),
    }),
  );
  await s1.opened();
  for (const m of offerOf(first, folders[0])) s1.send(m);
  await s1.next('accept');
  s1.close();
  await within(new Promise<void>((resolve) => { const t = setInterval(() => s2 && (clearInterval(t), resolve()), 5); }), 5_000, 'reconnect is asked');
  await s2.opened();
  for (const m of offerOf(second, folders[1])) s2.send(m);
  return { s2, r, asked };
}

const A = { name: 'a.txt', size: 8 };
const B = { name: 'b.txt', size: 8 };

describe('limit: the offer of a resumed session', () => {
  it('the same files again: answered at once (skip b.txt, accept), the user is not asked again', async () => {
    const { s2, asked } = await resumeWith([A, B], [A, B]);
    expect(await s2.next('accept')).toMatchObject({ id: ID });
    expect(s2.received.filter((m) => m.t === 'skip')).toEqual([{ t: 'skip', id: ID, i: 1 }]);
    expect(asked).toEqual([['a.txt', 'b.txt']]);
  });

  it.each([
    ['another file in the slot the user took', [{ name: 'evil.sh', size: 16 }, B], /offers "evil\.sh" \(16 B.*as file 0; it offered "a\.txt" \(8 B/],
    ['the same name with another size', [{ name: 'a.txt', size: 9 }, B], /offers "a\.txt" \(9 B.*as file 0/],
    ['a file more', [A, B, { name: 'c.txt', size: 1 }], /offers 3 files and 0 folders; it offered 2 and 0/],
  ])('%s: refused with reject, and the receiver fails with ProtocolError; nothing is accepted', async (_, second, message) => {
    const { s2, r, asked } = await resumeWith([A, B], second);
    const reject = await s2.next('reject');
    expect(reject.reason).toMatch(message);
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.error()).toBeInstanceOf(ProtocolError);
    expect(s2.received.some((m) => m.t === 'accept')).toBe(false);
    // Only session 1's start of the file the user took.
    const started = r.events.filter((e: SessionEvent): e is Extract<SessionEvent, { type: 'file-started' }> => e.type === 'file-started');
    expect(started.map((e) => e.manifest.name)).toEqual(['a.txt']);
    expect(asked).toEqual([['a.txt', 'b.txt']]);
  });

  it('another folder: refused the same way', async () => {
    const { s2 } = await resumeWith([A], [A], [['docs'], ['etc']]);
    expect((await s2.next('reject')).reason).toMatch(/offers folder "etc"; it offered "docs"/);
  });
});
