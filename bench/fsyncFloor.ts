/**
 * What the disk allows for many small files, without any network: each file is created (`wx`), written
 * (4 KiB), fsynced or not, closed and linked to its final name, as directoryTarget does, with 1, 4 and 8
 * files at a time. Files per second, median of 3. It explains the ceiling of the small-files row of
 * `npm run bench -- --only many-files`: with an fsync per file, the disk's fsync latency bounds it.
 *
 *   node --import tsx bench/fsyncFloor.ts [files=500]
 */
import { link, mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const files = Number(process.argv[2] ?? 500);
const data = new Uint8Array(4096).fill(7);

async function one(dir: string, i: number, fsync: boolean): Promise<void> {
  const part = join(dir, `f${i}.tallow-part`);
  const h = await open(part, 'wx');
  await h.write(data, 0, data.length, 0);
  if (fsync) await h.sync();
  await h.close();
  await link(part, join(dir, `f${i}`));
  await unlink(part);
}

async function rate(fsync: boolean, parallel: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tallow-fsync-'));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < files) await one(dir, next++, fsync);
  }));
  const seconds = (performance.now() - t0) / 1000;
  await rm(dir, { recursive: true, force: true });
  return files / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const fsync of [true, false]) {
  for (const parallel of [1, 4, 8]) {
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) runs.push(await rate(fsync, parallel));
    console.log(`fsync ${fsync ? 'on ' : 'off'}, ${parallel} at a time: ${median(runs).toFixed(0)} files/s (runs ${runs.map((x) => x.toFixed(0)).join(', ')})`);
  }
}
