/**
 * The memory `blobTarget` holds while a file arrives, against the way it worked before 7 Dec 2026 (every part
 * kept until `finish`, then one `new Blob(parts)` that copies them all: twice the file at the end). Each run is
 * its own process (peak RSS from getrusage, and the largest `arrayBuffers` sampled every 16 chunks), fed `MiB`
 * of 256 KiB chunks through the target's sink, then `finish`. Runs interleaved, medians.
 *
 *   node --import tsx bench/blobTargetMemory.ts [MiB=256] [runs=3]
 */
import { execFileSync } from 'node:child_process';
import { from, lastValueFrom, Observable } from 'rxjs';
import { fileURLToPath } from 'node:url';
import { blobTarget, type ReceiveTarget } from '../src/index';
import { manifestOf } from '../test/limits/hostileSender';

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

/** The target as it was: every part held, one copy into a Blob at the end. */
const copyAtEnd: ReceiveTarget<Blob> = {
  open: () => {
    let parts: Uint8Array[] = [];
    return {
      from: 0,
      sink: (source) =>
        new Observable<number>((subscriber) => {
          let bytes = 0;
          return source.subscribe({
            next: (c) => {
              parts.push(c.data);
              bytes += c.data.length;
              subscriber.next(bytes);
            },
            error: (e) => subscriber.error(e),
            complete: () => subscriber.complete(),
          });
        }),
      finish: () => {
        const blob = new Blob(parts as BlobPart[]);
        parts = [];
        return blob;
      },
      abort: () => undefined,
    };
  },
};

async function child(variant: string, mib: number): Promise<void> {
  const target = variant === 'blobTarget' ? blobTarget() : copyAtEnd;
  const opened = await target.open(manifestOf({ size: mib * MiB }));
  let peakBuffers = 0;
  const chunks = (function* () {
    for (let i = 0; i < (mib * MiB) / CHUNK; i++) {
      if (i % 16 === 0) peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers);
      yield { index: i, offset: i * CHUNK, data: new Uint8Array(CHUNK).fill(i & 255) };
    }
  })();
  await lastValueFrom(opened.sink(from(chunks)));
  const blob = await opened.finish();
  peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers);
  if (blob.size !== mib * MiB) throw new Error(`size ${blob.size}`);
  console.log(JSON.stringify({ rssMiB: process.resourceUsage().maxRSS / 1024, buffersMiB: peakBuffers / MiB }));
}

async function main(): Promise<void> {
  const [, , first, second, third] = process.argv;
  if (first === '--child') return child(second, Number(third));
  const mib = Number(first ?? 256);
  const runs = Number(second ?? 3);
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { rssMiB: number; buffersMiB: number }[]> = { blobTarget: [], 'copy at end (before)': [] };
  for (let r = 0; r < runs; r++) {
    for (const variant of Object.keys(results)) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', variant, String(mib)], { encoding: 'utf8' });
      results[variant].push(JSON.parse(out.trim().split('\n').pop()!));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| target | peak RSS MiB (median of ${runs}) | largest arrayBuffers MiB | file MiB |\n|---|---|---|---|`);
  for (const [variant, rs] of Object.entries(results)) {
    console.log(`| ${variant} | ${median(rs.map((r) => r.rssMiB)).toFixed(0)} | ${median(rs.map((r) => r.buffersMiB)).toFixed(0)} | ${mib} |`);
  }
}

await main();
