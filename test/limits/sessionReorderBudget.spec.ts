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

describe('limit: tiny chunks count what holding them costs', () => {
  // An outside check: 64 files of 1-byte chunks (`chunk.min` 1), chunk 0 of each withheld: 4 million chunks held,
  // 4 MiB of payload against a 64 MiB bound, and 3.7 GB of memory without an error. Each held chunk now counts
  // 1 KiB besides its payload against `maxBufferedBytes`.
  const TINY = { channels: 1, lanes: 1, idBase: 600, reliability: 'reliable', chunk: { min: 1, max: 1 }, digest: 'sha-256', window: 65_535, parallel: 2 } as const;
  const SIZE1 = 65_535;
  const tinyOffer: ControlMessage[] = [
    { t: 'offer', v: CONTROL_VERSION, id: ID, files: 2, folders: 0, bytes: 2 * SIZE1, ...TINY },
    ...Array.from({ length: 2 }, (_, i): ControlMessage => ({ t: 'entry', id: ID, i, name: `t${i}.bin`, size: SIZE1, type: '' })),
  ];

  it('1-byte chunks 1..n of two files with 0 withheld, 1 MiB bound: ERR_REORDER_OVERFLOW after about 1 MiB / 1025 chunks, not 1 MiB of them', async () => {
    const s = closeAfter(new HostileSender());
    const r = watch(receiveFiles(s.link.b, { maxBufferedBytes: 1024 * KiB }));
    await s.opened();
    for (const m of tinyOffer) s.send(m);
    await s.next('accept');
    await s.openData({ ...TINY, id: ID, session: ID, index: 0, name: '', size: SIZE1, type: '' });
    for (let k = 1; k <= 600; k++) for (let f = 0; f < 2; f++) s.frame((ID + f) >>> 0, k, k, new Uint8Array([k & 0xff]));
    await within(r.settled, 10_000, 'receiver settles');
    const err = r.error() as ReorderError;
    expect(err).toBeInstanceOf(ReorderError);
    expect(err.code).toBe('ERR_REORDER_OVERFLOW');
    expect(err.message).toMatch(/shared 1048576 B/);
    // 1,023 chunks fit the shared 1 MiB (1,025 B each), wherever they were held: the next one overflows.
    const held = (err.details as { buffered: number }).buffered;
    // What the held chunks counted against the bound: payload and 1 KiB each.
    expect((err.details as { countedBytes: number; bufferedBytes: number }).countedBytes).toBe(held * 1025);
    expect(held).toBeLessThanOrEqual(1_023);
    expect(held).toBeGreaterThan(400);
  });
});
