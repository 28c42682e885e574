/**
 * Limit: out-of-order chunks are bounded per session, not only per file. A hostile sender that starts many
 * files at once (`parallel` up to 64) and withholds chunk 0 of each made the receiver hold up to 64 ×
 * `maxBufferedBytes` (an outside check measured 1.4 GiB after 40 s); every file's reorder buffer now draws on
 * one budget of `maxBufferedBytes` for the session.
 */
import { describe, expect, it } from 'vitest';
import { ReorderError, receiveFiles } from '../../src/index';
import { CONTROL_VERSION, type ControlMessage } from '../../src/protocol/control';
import { HostileSender, watch, within } from './hostileSender';
import { closeAfter } from './tmpDirs';

const KiB = 1024;
const ID = 4242;
const CHUNK = 64 * KiB;
const FILES = 4;
const SIZE = 16 * CHUNK;
const SETTINGS = { channels: 1, lanes: 1, idBase: 600, reliability: 'reliable', chunk: { min: CHUNK, max: CHUNK }, digest: 'sha-256', window: 64 * CHUNK, parallel: FILES } as const;

const offer: ControlMessage[] = [
  { t: 'offer', v: CONTROL_VERSION, id: ID, files: FILES, folders: 0, bytes: FILES * SIZE, ...SETTINGS },
  ...Array.from({ length: FILES }, (_, i): ControlMessage => ({ t: 'entry', id: ID, i, name: `f${i}.bin`, size: SIZE, type: '' })),
];

/** Sends chunks 1-5 of each of the first `files` files (chunk 0 withheld), to a receiver with `maxBufferedBytes`. */
async function outOfOrder(maxBufferedBytes: number, files: number) {
  const s = closeAfter(new HostileSender());
  const r = watch(receiveFiles(s.link.b, { maxBufferedBytes }));
  await s.opened();
  for (const m of offer) s.send(m);
  await s.next('accept');
  await s.openData({ ...SETTINGS, id: ID, session: ID, index: 0, name: '', size: SIZE, type: '' });
  for (let f = 0; f < files; f++) for (let k = 1; k <= 5; k++) s.frame((ID + f) >>> 0, k, k * CHUNK, new Uint8Array(CHUNK).fill(f + k));
  return { s, r };
}

describe('limit: out-of-order chunks across the files of a session', () => {
  it('4 files × 320 KiB held out of order pass a 512 KiB budget: ReorderError for the session, the sender told', async () => {
    const { s, r } = await outOfOrder(512 * KiB, FILES);
    await within(r.settled, 5_000, 'receiver settles');
    const err = r.error() as ReorderError;
    expect(err).toBeInstanceOf(ReorderError);
    expect(err.code).toBe('ERR_REORDER_OVERFLOW');
    expect(err.message).toMatch(/shared 524288 B/);
    expect(await s.next('error')).toMatchObject({ code: 'ERR_REORDER_OVERFLOW' });
  });

  it('one file of 320 KiB out of order stays within it: no error while the gap is open', async () => {
    const { r } = await outOfOrder(512 * KiB, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.error()).toBeUndefined();
  });
});
