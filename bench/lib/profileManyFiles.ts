/**
 * Runs one many-files case of bench/manyFiles.ts a few times, for profiling and for timing the phases
 * of each file. Profile a bundle (see bench/lib/profileReal.ts for why):
 *
 *   npx esbuild bench/lib/profileManyFiles.ts --bundle --platform=node --format=esm --packages=external --outfile=.tmp/prof/many.mjs
 *   node --expose-gc --cpu-prof --cpu-prof-dir=.tmp/prof --input-type=module -e "await import('./.tmp/prof/many.mjs')" -- session 1000 4096 8 3
 *   node --import tsx bench/lib/summarizeProfile.ts .tmp/prof/*.cpuprofile
 *
 * Arguments: mode (`session`: one sendFiles; `each`: one sendFile per file), files (default 1000),
 * bytes per file (default 4096; 0 makes empty files), filesInFlight (default 8), rounds (default 3).
 * Environment: `MAX_CHUNK=<bytes>` passes `maxChunk` to sendFiles; `SEND_STATS=1` counts send() calls per channel; `RESUME=0`
 * receives into `directoryTarget(dst, { resume: false })`; `FSYNC=0` into `directoryTarget(dst, { fsync: false })`;
 * `TARGET=discard` receives into `discardTarget()` (no disk; the tree is not checked); `PROFILE=<file.cpuprofile>` profiles the timed sessions only (node:inspector, not file generation or the checks after
 * each round), without `--cpu-prof`:
 *
 *   PROFILE=.tmp/prof/sessions.cpuprofile node --input-type=module -e "await import('./.tmp/prof/many.mjs')" -- session 1000 4096 8 3
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shutdownNodeDataChannel } from '../../harness/nodePeers';
import { connectLoopbackPair } from '../../src/connect/connectLoopbackPair';
import { directoryTarget } from '../../src/transfer/directoryTarget';
import { filesFromPaths } from '../../src/transfer/filesFromPaths';
import { runEach, runSession, verify } from '../manyFiles';
import { discardTarget } from './discardTarget';
import { writeEmptyTree, writeSmallFiles } from './fileTrees';

const args = process.argv.slice(/\.(?:[cm]?js|ts)$/.test(process.argv[1] ?? '') ? 2 : 1);
const mode = args[0] ?? 'session';
const files = Number(args[1] ?? 1000);
const size = Number(args[2] ?? 4096);
const inFlight = Number(args[3] ?? 8);
const rounds = Number(args[4] ?? 3);
if (mode !== 'session' && mode !== 'each') throw new Error(`mode must be session or each, got ${mode}`);

// `SEND_STATS=1`: count the polyfill's send() calls per channel label, with their bytes and the time spent in them.
const sendStats = new Map<string, { calls: number; bytes: number; ms: number }>();
if (process.env.SEND_STATS) {
  const { RTCDataChannel } = await import('node-datachannel/polyfill');
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: unknown) {
    const t0 = performance.now();
    try {
      return send.call(this, data as never);
    } finally {
      const label = this.label.replace(/-\d+$/, '-<n>');
      const s = sendStats.get(label) ?? { calls: 0, bytes: 0, ms: 0 };
      s.calls++;
      s.bytes += typeof data === 'string' ? data.length : (data as Uint8Array).byteLength;
      s.ms += performance.now() - t0;
      sendStats.set(label, s);
    }
  };
}

// `PROFILE=<file>`: the V8 profiler runs only while a session is timed; the samples of every round go into one profile.
const profiler = process.env.PROFILE ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
}
/** Runs `fn` with the profiler on (when `PROFILE` is set). */
const profiled = async <T,>(fn: () => Promise<T>): Promise<T> => {
  if (!profiler) return fn();
  await profiler.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await profiler.post('Profiler.stop');
    profiles.push(profile);
  }
};
const profiles: { nodes: unknown[]; samples?: number[]; timeDeltas?: number[]; startTime: number; endTime: number }[] = [];

const root = await mkdtemp(join(tmpdir(), 'tallow-many-prof-'));
const pair = await connectLoopbackPair();
try {
  const src = join(root, 'src');
  const expected = size > 0 ? await writeSmallFiles(src, 'src', files, size) : await writeEmptyTree(src, 'src', files, []);
  const set = await filesFromPaths([src]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let round = 1; round <= rounds; round++) {
    const dst = await mkdtemp(join(root, 'dst-'));
    const run = await profiled(() => mode === 'session' ? runSession(pair, set, dst, { filesInFlight: inFlight, ...(process.env.MAX_CHUNK ? { maxChunk: Number(process.env.MAX_CHUNK) } : {}) }, files * size, process.env.TARGET === 'discard' ? () => discardTarget() : (d) => directoryTarget(d, { resume: process.env.RESUME !== '0', fsync: process.env.FSYNC !== '0' })) : runEach(pair, set.files, dst));
    await verify(mode, run, expected, dst, process.env.TARGET !== 'discard');
    console.error(`round ${round}: ${(files / run.seconds).toFixed(0)} files/s, ${run.seconds.toFixed(2)} s, CPU ${run.cpuSeconds.toFixed(2)} s, handshake ${(run.handshakeSeconds * 1000).toFixed(0)} ms`);
    await rm(dst, { recursive: true, force: true });
    for (const [label, st] of sendStats) console.error(`  send() on ${label}: ${st.calls} calls (${(st.calls / files).toFixed(1)} per file), ${st.bytes} B, ${st.ms.toFixed(0)} ms (${((st.ms / st.calls) * 1000).toFixed(0)} µs per call)`);
    sendStats.clear();
  }
  if (profiler && profiles.length) {
    // One profile per round; the last round's is written (earlier rounds warm up the JIT).
    await writeFile(process.env.PROFILE!, JSON.stringify(profiles[profiles.length - 1]));
    console.error(`profile of the last round written to ${process.env.PROFILE}`);
  }
} finally {
  profiler?.disconnect();
  await pair.close();
  await rm(root, { recursive: true, force: true });
  shutdownNodeDataChannel();
}
