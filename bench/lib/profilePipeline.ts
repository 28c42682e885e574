/**
 * Runs one in-process pipeline variant a few times, for profiling. Profile a
 * bundle (tsx puts each module on one line, so closures lose names and lines):
 *
 *   npx esbuild bench/lib/profilePipeline.ts --bundle --platform=node --format=esm --outfile=/tmp/prof/run.mjs
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof /tmp/prof/run.mjs [MiB] [runs] [variant]
 *   node --import tsx bench/lib/summarizeProfile.ts /tmp/prof/*.cpuprofile
 *
 * Defaults: 256 MiB, 4 runs (after one warm-up run on 16 MiB), the full
 * variant; `variant` is any part of a variant's name in bench/pipeline.ts.
 */
import { makeFile, runVariant, VARIANTS } from '../pipeline';
import { mbPerSecond, MiB, RssPeak } from './measure';

const size = Number(process.argv[2] ?? 256) * MiB;
const runs = Number(process.argv[3] ?? 4);
const wanted = process.argv[4];
const variant = wanted ? VARIANTS.find((v) => v.name.includes(wanted)) : VARIANTS[0];
if (!variant) throw new Error(`no variant matches "${wanted}"; variants: ${VARIANTS.map((v) => v.name).join(', ')}`);
const warm = makeFile(16 * MiB);
await runVariant(variant, warm.file, warm.expected, new RssPeak());
const { file, expected } = makeFile(size);
for (let i = 0; i < runs; i++) {
  const t = await runVariant(variant, file, expected, new RssPeak());
  console.log(`${variant.name}: ${mbPerSecond(size, t.wallMs).toFixed(0)} MB/s wall, ${mbPerSecond(size, t.cpuMs).toFixed(0)} MB/s CPU`);
}
