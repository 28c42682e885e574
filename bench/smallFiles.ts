/**
 * 1,000 files of 4 KiB in one sendFiles session, five sessions in a row on one node-datachannel pair
 * (127.0.0.1), into directoryTarget on disk: files per second, and the median. The small-files row of
 * `npm run bench -- --only many-files` on its own, for quick before/after comparisons.
 *
 *   node --import tsx bench/smallFiles.ts
 */
import { lastValueFrom, toArray } from 'rxjs';
import { mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { receiveFiles, sendFiles } from '../src/index';
import { connectLoopbackPair, directoryTarget, filesFromPaths } from '../src/node';
const dir = await mkdtemp(join(tmpdir(), 'rp-'));
await mkdir(join(dir, 'src'));
for (let i = 0; i < 1000; i++) await writeFile(join(dir, 'src', `f${i}.bin`), new Uint8Array(4096).fill(i & 255));
const set = await filesFromPaths([join(dir, 'src')]);
const pair = await connectLoopbackPair();
const rates: number[] = [];
for (let round = 0; round < 5; round++) {
  const t0 = performance.now();
  const r = lastValueFrom(receiveFiles(pair.b, { target: directoryTarget(join(dir, `out${round}`)) }).pipe(toArray()));
  const s = lastValueFrom(sendFiles(pair.a, set).pipe(toArray()));
  await Promise.all([r, s]);
  rates.push(Math.round(1000 / ((performance.now() - t0) / 1000)));
}
console.log('files/s', rates.join(' '), 'median', [...rates].sort((a, b) => a - b)[2]);
await pair.close();
await rm(dir, { recursive: true, force: true });
process.exit(0);
