/**
 * Found by the outside check: a sender whose input cannot seek (`streamFile`, e.g. a browser ReadableStream)
 * fails the whole session when the receiver offers to resume that file, and so it can never deliver the file
 * to a receiver that kept a partial of it (directoryTarget does, by default, after any interruption).
 *
 * Was a bug (fixed): FileSender.start() failed with InvalidConfigError "<name> cannot resume: it is not seekable" (sent to the
 * peer as ERR_INVALID_CONFIG) when `resume.from > 0` and `!desc.seekable`. The protocol already has the answer
 * for "I cannot use your prefix": `restart` (docs/protocol.md, "Resume"). Fix (FileSender.ts, start()): in that
 * case set `this.state = 'restarting'` and send `{ t: 'restart', id: session, i: index }` instead of failing;
 * the receiver discards its prefix and answers `resume` from 0, and onResume() starts the data from 0 without
 * reading the stream first (hashHeldPrefix(0, …) does not call `read`). Checked locally: with that change this
 * spec passes (it failed before, as `it.fails`).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { receiveFiles, sendFile, streamFile } from 'tallow-rx';
import { directoryTarget } from 'tallow-rx/node';
import { createVirtualLink, type VirtualLink } from 'tallow-rx/testing';
import { docSend, sha256Hex, type RawConnection } from './independentPeer';
import { watchAborts } from './watchAborts';

const dirs: string[] = [];
const links: VirtualLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const streamOf = (bytes: Uint8Array): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 65_536) controller.enqueue(bytes.slice(at, at + 65_536));
      controller.close();
    },
  });

// Before the fix (see the header): ERR_INVALID_CONFIG "big.bin cannot resume: it is not seekable" on both sides.
it('a stream sender delivers a file the receiver holds in part: it restarts that file from 0', async () => {
  const l = createVirtualLink();
  links.push(l);
  const dir = await mkdtemp(join(tmpdir(), 'tallow-outside-stream-'));
  dirs.push(dir);
  const file = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 11) % 251);
  const lastModified = 1_700_000_000_000;

  // An earlier session, cut part-way, leaves a verified partial of big.bin.
  const w = watchAborts(directoryTarget(dir, { checkpointEvery: 256 * 1024 }));
  const cut = lastValueFrom(receiveFiles(l.b, { target: w.target })).catch((e: unknown) => e);
  await docSend([l.a as unknown as RawConnection], [{ name: 'big.bin', bytes: file, lastModified }], { id: 1, idBase: 600, cancelAfterBytes: 1024 * 1024 });
  expect(await cut).toMatchObject({ code: 'ERR_CANCELLED' });
  await Promise.all(w.aborts);
  expect((await readdir(dir)).some((n) => n.endsWith('.tallow-part'))).toBe(true);

  // The same file again, this time from a stream.
  const received = lastValueFrom(receiveFiles(l.b, { target: directoryTarget(dir) }).pipe(toArray())).catch((e: unknown) => e);
  const sent = await lastValueFrom(sendFile(l.a, streamFile(streamOf(file), { size: file.length, name: 'big.bin', lastModified }))).catch((e: unknown) => e);
  expect(await received).toBeInstanceOf(Array);
  expect(sent).toMatchObject({ type: 'completed' });
  expect(sha256Hex(await readFile(join(dir, 'big.bin')))).toBe(sha256Hex(file));
});
