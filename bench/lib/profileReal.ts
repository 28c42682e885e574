/**
 * Runs some systems of bench/real.ts interleaved, for profiling. Profile a
 * bundle (tsx puts each module on one line, so closures lose names and lines),
 * and start it through `-e`: bench/raw.ts runs its own CLI when
 * `process.argv[1]` is the file it was bundled into, so `node bundle.mjs`
 * would run that CLI too, concurrently.
 *
 *   npx esbuild bench/lib/profileReal.ts --bundle --platform=node --format=esm --packages=external --outfile=.tmp/prof/real.mjs
 *   node --expose-gc --cpu-prof --cpu-prof-dir=.tmp/prof --input-type=module -e "await import('./.tmp/prof/real.mjs')" -- 200 3 'channels: 1, lanes: 1' 'raw node-datachannel, 1 ch, 64'
 *   node --import tsx bench/lib/summarizeProfile.ts .tmp/prof/*.cpuprofile
 *
 * Arguments: megabytes (default 200), rounds (default 3), then parts of system
 * names (default: every system). The bundle must sit inside the repository so
 * that its external packages (rxjs, node-datachannel, simple-peer) resolve.
 */
import { shutdownNodeDataChannel } from '../../harness/nodePeers';
import { REAL_SYSTEMS, runInterleaved, toResults } from '../real';

// `node file args…` puts the file at argv[1]; `node -e … -- args…` does not.
const args = process.argv.slice(/\.(?:[cm]?js|ts)$/.test(process.argv[1] ?? '') ? 2 : 1);
const megabytes = Number(args[0] ?? 200);
const reps = Number(args[1] ?? 3);
const wanted = args.slice(2);
const systems = wanted.length ? REAL_SYSTEMS.filter((s) => wanted.some((w) => s.name.includes(w))) : REAL_SYSTEMS;
if (!systems.length) throw new Error(`no system matches ${wanted.join(', ')}; systems: ${REAL_SYSTEMS.map((s) => s.name).join(', ')}`);
const bytes = Math.round(megabytes * 1e6);
const summaries = await runInterleaved(systems, { bytes, reps, warmBytes: Math.min(bytes, 16e6), log: (line) => console.error(line) });
for (const row of toResults(summaries, bytes)) console.log(`${row.variant}: ${row.notes}`);
shutdownNodeDataChannel();
