/**
 * Runs the full in-process pipeline (sha256+crc) a few times, for profiling:
 *
 *   node --cpu-prof --cpu-prof-dir=prof --import tsx bench/lib/profilePipeline.ts [MiB] [runs]
 *   node --import tsx bench/lib/summarizeProfile.ts prof/*.cpuprofile
 *
 * Defaults: 256 MiB, 4 runs (after one warm-up run on 16 MiB).
 */
import { makeFile, runVariant, VARIANTS } from '../pipeline';
import { mbPerSecond, MiB, RssPeak } from './measure';

const size = Number(process.argv[2] ?? 256) * MiB;
const runs = Number(process.argv[3] ?? 4);
const variant = VARIANTS[0];
const warm = makeFile(16 * MiB);
await runVariant(variant, warm.file, warm.expected, new RssPeak());
const { file, expected } = makeFile(size);
for (let i = 0; i < runs; i++) {
  const t = await runVariant(variant, file, expected, new RssPeak());
  console.log(`${variant.name}: ${mbPerSecond(size, t.wallMs).toFixed(0)} MB/s wall, ${mbPerSecond(size, t.cpuMs).toFixed(0)} MB/s CPU`);
}
