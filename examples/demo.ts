/**
 * The main job: a real file transfer between two Node peers over real WebRTC
 * (node-datachannel) on 127.0.0.1, with live progress and stats.
 *
 *   npm run demo                      # sends a generated 256 MiB file
 *   npm run demo -- path/to/file      # sends your file
 *   npm run demo -- --size 1GiB --profile lan --channels 3 --lanes 2 --reliability unreliable --window 8MiB
 *
 * Both peers run in this process; the received file goes to a temporary
 * directory and is removed afterwards (pass --keep to keep it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { filter, lastValueFrom, map, merge, share, tap } from 'rxjs';
import { receiveFile, sendFile, type ProfileName, type TransferEvent, type TransferStats } from '../src/index';
import { connectLoopbackPair, directoryTarget, fileFromPath } from '../src/node';

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
let input = positionals[0];
if (!input) {
  const size = parseSize(values.size!);
  input = join(work, `demo-${values.size}.bin`);
  process.stdout.write(`generating ${fmtBytes(size)} of random data at ${input} … `);
  await generate(input, size);
  process.stdout.write('done\n');
}
const inputSize = (await stat(input)).size;
// One peer-connection pair unless --lanes asks for more. Both peers share this process and its two cores, where a
// second lane adds no throughput (docs/benchmarks.md, "Real WebRTC") but about 20 MiB of native SCTP/DTLS state.
const lanesWanted = Number(values.lanes ?? 1);
// connectLoopbackPair (tallow-rx/node) signals in memory and keeps ICE on 127.0.0.1.
const pair = await connectLoopbackPair({ lanes: lanesWanted });
const senderLanes = pair.a;
const receiverLanes = pair.b;
console.log(`connected: ${pair.a.length} peer connection pair(s) over 127.0.0.1 (node-datachannel)`);

const outDir = join(work, 'received');
await (await import('node:fs/promises')).mkdir(outDir);
const file = await fileFromPath(input);
const options = {
  profile: values.profile as ProfileName | 'auto',
  ...(values.channels ? { channels: Number(values.channels) } : {}),
  ...(values.lanes ? { lanes: Number(values.lanes) } : {}),
  ...(values.reliability ? { reliability: values.reliability as 'reliable' | 'unreliable' } : {}),
  ...(values.window ? { window: parseSize(values.window) } : {}),
};

// Subscribe the receiver first: it must be listening when the offer comes.
const received$ = receiveFile(receiverLanes, { target: directoryTarget(outDir) }).pipe(share());
const sent$ = sendFile(senderLanes, file, options).pipe(share());
let latest: TransferStats | undefined;
let sentBytes = 0;
const tty = process.stdout.isTTY;
let lastLine = 0;

const render = () => {
  const pct = inputSize ? (sentBytes / inputSize) * 100 : 100;
  const width = 28;
  const fill = Math.round((pct / 100) * width);
  const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
  const s = latest;
  const buffers = s ? Object.values(s.buffers) : [];
  const parts = [
    `${bar} ${pct.toFixed(1).padStart(5)}%`,
    `${fmtBytes(sentBytes)}/${fmtBytes(inputSize)}`,
    s ? fmtRate(s.throughput.current) : '…',
    s?.rtt.current !== undefined ? `rtt ${s.rtt.current.toFixed(1)} ms` : 'rtt –',
    s ? `ch ${s.channels ?? '?'}×lanes ${s.lanes ?? '?'}` : '',
    buffers.length ? `buf ${buffers.map((b) => fmtBytes(b)).join('/')}` : '',
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
const events$ = merge(
  sent$.pipe(
    tap((e: TransferEvent) => {
      if (e.type === 'progress') sentBytes = e.bytes;
      if (e.type === 'stats') latest = e.stats;
      if (e.type === 'progress' || e.type === 'stats') render();
    }),
    filter((e) => e.type === 'completed'),
    map((e) => ({ side: 'sender' as const, e })),
  ),
  received$.pipe(
    filter((e) => e.type === 'completed'),
    map((e) => ({ side: 'receiver' as const, e })),
  ),
);
const results: Record<string, TransferEvent> = {};
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
const rec = results.receiver as Extract<TransferEvent, { type: 'completed' }>;
const snd = results.sender as Extract<TransferEvent, { type: 'completed' }>;
const [sourceSha, writtenSha] = await Promise.all([sha256File(input), sha256File(rec.result as string)]);
const match = sourceSha === writtenSha && writtenSha === rec.sha256 && rec.sha256 === snd.sha256;
console.log('');
console.log('summary');
console.log(`  file        ${file.name} (${fmtBytes(inputSize)})`);
console.log(`  time        ${seconds.toFixed(2)} s`);
console.log(`  throughput  ${fmtRate((inputSize * 8) / seconds)} (${((inputSize / seconds) / 2 ** 20).toFixed(1)} MiB/s)`);
if (latest) console.log(`  stats       rtt avg ${latest.rtt.avg?.toFixed(2) ?? '–'} ms, peak ${fmtRate(latest.throughput.peak)}, quality ${latest.quality}, bottleneck ${latest.bottleneck}`);
if (latest) console.log(`  advice      ${latest.recommendation.action}: ${latest.recommendation.reason}`);
console.log(`  sha-256     source   ${sourceSha}`);
console.log(`              received ${writtenSha}`);
console.log(`  match       ${match ? 'yes ✓' : 'NO ✗'}`);
const MiB = 2 ** 20;
console.log(`  peak RSS    ${(rssPeak / MiB).toFixed(0)} MiB for both peers in one process (${(rssBefore / MiB).toFixed(0)} MiB before the transfer, +${((rssPeak - rssBefore) / MiB).toFixed(0)} MiB during it)`);

await pair.close();
if (values.keep) console.log(`kept ${rec.result as string}`);
else await rm(work, { recursive: true, force: true });
process.exit(match ? 0 : 1);
