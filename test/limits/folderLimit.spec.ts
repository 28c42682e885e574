/**
 * Limit: folders count too. An offer may list at most `maxFiles` folders, and its paths may go through at most
 * `maxFiles` distinct folders: an outside check made a receiver create 20,002 folders with 20,000 `folder`
 * messages, and 50,100 with 100 names of 1,000 characters. Refused with `reject` before anything is created.
 * And the tree is checked on where names land (`x?` and `x_/y.txt` both land on `x_`): a file and a folder on
 * one place is a ProtocolError before anything is written (it failed mid-session after writing the file).
 */
import { describe, expect, it } from 'vitest';
import { LimitExceededError, receiveFiles } from '../../src/index';
import { CONTROL_VERSION, type ControlMessage } from '../../src/protocol/control';
import { HostileSender, watch, within } from './hostileSender';
import { closeAfter } from './tmpDirs';

const ID = 99;
const SETTINGS = { channels: 1, lanes: 1, idBase: 600, reliability: 'reliable', chunk: { min: 1024, max: 65_536 }, digest: 'sha-256', window: 1 << 20, parallel: 1 } as const;

async function offered(names: readonly string[], folders: readonly string[], maxFiles: number) {
  const s = closeAfter(new HostileSender());
  const r = watch(receiveFiles(s.link.b, { maxFiles }));
  await s.opened();
  const messages: ControlMessage[] = [
    { t: 'offer', v: CONTROL_VERSION, id: ID, files: names.length, folders: folders.length, bytes: names.length, ...SETTINGS },
    ...names.map((name, i): ControlMessage => ({ t: 'entry', id: ID, i, name, size: 1, type: '' })),
    ...folders.map((name): ControlMessage => ({ t: 'folder', id: ID, name })),
  ];
  for (const m of messages) s.send(m);
  const reject = await s.next('reject');
  await within(r.settled, 5_000, 'receiver settles');
  return { reason: reject.reason, error: r.error(), events: r.events.map((e) => e.type) };
}

describe('limit: folders in an offer', () => {
  it('more listed folders than maxFiles: rejected at the offer', async () => {
    const { reason, error, events } = await offered(['a.txt'], ['f1', 'f2', 'f3', 'f4'], 3);
    expect(reason).toMatch(/folder count 4 exceeds the limit of 3/);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(events).not.toContain('started');
  });

  it('one path through more folders than maxFiles: rejected while listing', async () => {
    const { reason, error } = await offered(['a/b/c/d/e.txt'], [], 3);
    expect(reason).toMatch(/folder count 4 exceeds the limit of 3/);
    expect(error).toBeInstanceOf(LimitExceededError);
  });

  it.each([
    ['x?', 'x_/y.txt', 'x_'],
    ['./k', 'k/z', 'k'],
    ['CON', '_CON/a', '_CON'],
  ])('a file %j and a path %j land on one place (%j): refused before anything is written', async (file, path, place) => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFiles(s.link.b));
    await s.opened();
    s.send({ t: 'offer', v: CONTROL_VERSION, id: ID, files: 2, folders: 0, bytes: 2, ...SETTINGS });
    s.send({ t: 'entry', id: ID, i: 0, name: file, size: 1, type: '' });
    s.send({ t: 'entry', id: ID, i: 1, name: path, size: 1, type: '' });
    expect(await s.next('error')).toMatchObject({ code: 'ERR_PROTOCOL', message: expect.stringContaining(`"${place}" is listed both as a file and as a folder`) });
    await within(r.settled, 5_000, 'receiver settles');
    expect(r.events.map((e) => e.type)).not.toContain('started');
  });

  it('within the limit: accepted', async () => {
    const s = closeAfter(new HostileSender());
    watch(receiveFiles(s.link.b, { maxFiles: 3 }));
    await s.opened();
    s.send({ t: 'offer', v: CONTROL_VERSION, id: ID, files: 1, folders: 1, bytes: 1, ...SETTINGS });
    s.send({ t: 'entry', id: ID, i: 0, name: 'a/b.txt', size: 1, type: '' });
    s.send({ t: 'folder', id: ID, name: 'c' });
    expect(await s.next('accept')).toMatchObject({ id: ID });
  });
});
