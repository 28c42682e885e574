/**
 * The main job: a real file transfer between two Node peers over real WebRTC
 * (node-datachannel) on 127.0.0.1, with live progress and stats.
 *
 *   npm run demo                      # sends a generated 256 MiB file
 *   npm run demo -- path/to/file      # sends your file
 *   npm run demo -- path/to/folder other-file   # a folder and a file in one session
 *   npm run demo -- --size 1GiB --profile lan --channels 3 --lanes 2 --reliability unreliable --window 8MiB
 *
 * Both peers run in this process; the received file goes to a temporary
 * directory and is removed afterwards (pass --keep to keep it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { filter, lastValueFrom, map, merge, share, tap } from 'rxjs';
import { receiveFiles, sendFiles, type FileResult, type Manifest, type ProfileName, type SessionEvent, type TransferStats } from '../src/index';
import { connectLoopbackPair, directoryTarget, filesFromPaths } from '../src/node';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string', default: '256MiB' },
    profile: { type: 'string', default: 'auto' },
    channels: { type: 'string' },
    lanes: { type: 'string' },
    reliability: { type: 'string' },
    window: { type: 'string' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const parseSize = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(s.trim());
  if (!m) throw new Error(`cannot parse size ${s}`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 };
  return Math.round(Number(m[1]) * mult[unit]);
};
const fmtBytes = (n: number): string =>
  n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
const fmtRate = (bps: number): string => (bps >= 1e9 ? `${(bps / 1e9).toFixed(2)} Gbit/s` : `${(bps / 1e6).toFixed(1)} Mbit/s`);
const sha256File = (path: string): Promise<string> =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 }).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });

/** Writes `size` random bytes to `path` in 4 MiB pieces (never all in memory). */
async function generate(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, 4 << 20);
    if (!out.write(randomBytes(n))) await new Promise<void>((r) => out.once('drain', () => r()));
    left -= n;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

const work = await mkdtemp(join(tmpdir(), 'tallow-demo-'));
const inputs = [...positionals];
if (!inputs.length) {
  const size = parseSize(values.size!);
  inputs.push(join(work, `demo-${values.size}.bin`));
  process.stdout.write(`generating ${fmtBytes(size)} of random data at ${inputs[0]} … `);
  await generate(inputs[0], size);
  process.stdout.write('done\n');
}
// filesFromPaths walks folders (symlinks are reported, not followed); each file is named by its relative path.
const set = await filesFromPaths(inputs);
for (const s of set.skipped ?? []) console.log(`skipped ${s.path}: ${s.reason}`);
const sources = new Map(set.files.map((f) => [f.name, sourcePathOf(inputs, f.name)]));
const inputSize = set.files.reduce((n, f) => n + f.size, 0);
// One peer-connection pair unless --lanes asks for more. Both peers share this process and its two cores, where a
// second lane adds no throughput (docs/benchmarks.md, "Real WebRTC") but about 20 MiB of native SCTP/DTLS state.
const lanesWanted = Number(values.lanes ?? 1);
// connectLoopbackPair (tallow-rx/node) signals in memory and keeps ICE on 127.0.0.1.
const pair = await connectLoopbackPair({ lanes: lanesWanted });
console.log(`connected: ${pair.a.length} peer connection pair(s) over 127.0.0.1 (node-datachannel)`);
console.log(`sending ${set.files.length} file(s), ${fmtBytes(inputSize)}, and ${set.folders?.length ?? 0} folder(s)`);

const outDir = join(work, 'received');
await mkdir(outDir);
const options = {
  profile: values.profile as ProfileName | 'auto',
  ...(values.channels ? { channels: Number(values.channels) } : {}),
  ...(values.lanes ? { lanes: Number(values.lanes) } : {}),
  ...(values.reliability ? { reliability: values.reliability as 'reliable' | 'unreliable' } : {}),
  ...(values.window ? { window: parseSize(values.window) } : {}),
};

// Subscribe the receiver first: it must be listening when the offer comes.
const received$ = receiveFiles(pair.b, { target: directoryTarget(outDir) }).pipe(share());
const sent$ = sendFiles(pair.a, set, options).pipe(share());
let latest: TransferStats | undefined;
let sentBytes = 0;
let filesDone = 0;
let current: { manifest: Manifest; bytes: number } | undefined;
const tty = process.stdout.isTTY;
let lastLine = 0;

const render = () => {
  const pct = inputSize ? (sentBytes / inputSize) * 100 : 100;
  const width = 24;
  const fill = Math.round((pct / 100) * width);
  const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
  const s = latest;
  const filePct = current && current.manifest.size ? ((current.bytes / current.manifest.size) * 100).toFixed(0) : '100';
  const parts = [
    `${bar} ${pct.toFixed(1).padStart(5)}%`,
    `${fmtBytes(sentBytes)}/${fmtBytes(inputSize)}`,
    `files ${filesDone}/${set.files.length}`,
    current ? `${current.manifest.name.slice(-32)} ${filePct}%` : '',
    s ? fmtRate(s.throughput.current) : '…',
    s?.rtt.current !== undefined ? `rtt ${s.rtt.current.toFixed(1)} ms` : 'rtt –',
    s ? `ch ${s.channels ?? '?'}×lanes ${s.lanes ?? '?'}` : '',
    s?.chunkSize ? `chunk ${fmtBytes(s.chunkSize)}` : '',
    s ? `q ${s.quality} ${s.bottleneck}` : '',
    s?.etaSeconds !== undefined ? `eta ${s.etaSeconds.toFixed(0)} s` : '',
  ].filter(Boolean);
  const line = parts.join(' │ ');
  if (values.quiet) return;
  if (tty) process.stdout.write(`\r${line.padEnd(process.stdout.columns ? process.stdout.columns - 1 : 0)}`);
  else if (Date.now() - lastLine > 1000 || pct >= 100) {
    lastLine = Date.now();
    console.log(line);
  }
};

// Peak RSS during the transfer, sampled; the baseline is the process before it (Node, tsx, node-datachannel).
if ((globalThis as any).gc) (globalThis as any).gc();
const rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 25);
const t0 = performance.now();
const onSent = (e: SessionEvent) => {
  if (e.type === 'progress') {
    sentBytes = e.bytes;
    filesDone = e.files.completed;
  }
  if (e.type === 'file-progress') current = { manifest: e.manifest, bytes: e.bytes };
  if (e.type === 'stats') latest = e.stats;
  if (e.type === 'progress' || e.type === 'stats') render();
};
const events$ = merge(
  sent$.pipe(
    tap(onSent),
    filter((e) => e.type === 'completed'),
    map((e) => ({ side: 'sender' as const, e })),
  ),
  received$.pipe(
    filter((e) => e.type === 'completed'),
    map((e) => ({ side: 'receiver' as const, e })),
  ),
);
const results: Record<string, SessionEvent> = {};
try {
  await lastValueFrom(events$.pipe(tap(({ side, e }) => (results[side] = e))));
} catch (err) {
  if (tty) process.stdout.write('\n');
  console.error('transfer failed:', err);
  await pair.close();
  process.exit(1);
}
const seconds = (performance.now() - t0) / 1000;
clearInterval(rssTimer);
if (tty && !values.quiet) process.stdout.write('\n');
const rec = results.receiver as Extract<SessionEvent<string>, { type: 'completed' }>;
const snd = results.sender as Extract<SessionEvent, { type: 'completed' }>;
// Every file: the source on disk, the file written, and both sides' digests must agree.
const sentSha = new Map(snd.files.map((f) => [f.manifest.index, f.sha256]));
let match = rec.files.length === set.files.length;
// Every folder of the set, empty ones included, must exist on the receiving side.
const folders = set.folders ?? [];
const foldersMade = (await Promise.all(folders.map((d) => stat(join(outDir, d)).then((st) => st.isDirectory(), () => false)))).filter(Boolean).length;
match &&= foldersMade === folders.length;
const checks = await Promise.all(rec.files.map((f) => checkFile(f, sentSha.get(f.manifest.index))));
for (const c of checks) match &&= c.ok;
console.log('');
console.log('summary');
console.log(`  files       ${rec.files.length} of ${set.files.length} (${fmtBytes(inputSize)}), folders ${foldersMade} of ${folders.length} recreated`);
console.log(`  time        ${seconds.toFixed(2)} s`);
console.log(`  throughput  ${fmtRate((inputSize * 8) / seconds)} (${((inputSize / seconds) / 2 ** 20).toFixed(1)} MiB/s${rec.files.length > 1 ? `, ${(rec.files.length / seconds).toFixed(rec.files.length / seconds < 10 ? 1 : 0)} files/s` : ''})`);
if (latest) console.log(`  stats       rtt avg ${latest.rtt.avg?.toFixed(2) ?? '–'} ms, peak ${fmtRate(latest.throughput.peak)}, quality ${latest.quality}, bottleneck ${latest.bottleneck}`);
if (latest) console.log(`  advice      ${latest.recommendation.action}: ${latest.recommendation.reason}`);
if (checks.length === 1) {
  console.log(`  sha-256     source   ${checks[0].source}`);
  console.log(`              received ${checks[0].sha}`);
} else for (const c of checks.slice(0, 20)) console.log(`  sha-256     ${c.ok ? '✓' : '✗'} ${c.sha.slice(0, 16)}… ${c.name}`);
if (checks.length > 20) console.log(`              … and ${checks.length - 20} more (${checks.filter((c) => c.ok).length} of ${checks.length} match)`);
console.log(`  match       ${match ? 'yes ✓ (every file equals its source)' : 'NO ✗'}`);
const MiB = 2 ** 20;
console.log(`  peak RSS    ${(rssPeak / MiB).toFixed(0)} MiB for both peers in one process (${(rssBefore / MiB).toFixed(0)} MiB before the transfer, +${((rssPeak - rssBefore) / MiB).toFixed(0)} MiB during it)`);

await pair.close();
if (values.keep) console.log(`kept ${outDir}`);
else await rm(work, { recursive: true, force: true });
process.exit(match ? 0 : 1);

/** Hashes a received file and its source, and compares both with the digests the peers agreed on. */
async function checkFile(f: FileResult<string>, senderSha: string | undefined): Promise<{ name: string; source: string; sha: string; ok: boolean }> {
  const [source, written] = await Promise.all([sha256File(sources.get(f.manifest.name)!), sha256File(f.result!)]);
  return { name: f.manifest.name, source, sha: written, ok: source === written && written === f.sha256 && f.sha256 === senderSha };
}

/** The path on disk of the set's file `name`: relative names start with the basename of one of `inputs`. */
function sourcePathOf(paths: readonly string[], name: string): string {
  for (const p of paths) {
    const base = p.replace(/\/+$/, '').split('/').pop()!;
    if (name === base) return p;
    if (name.startsWith(`${base}/`)) return join(p, name.slice(base.length + 1));
  }
  throw new Error(`no source for ${name}`);
}
