/**
 * SHA-256 in Node: node:crypto on the main thread against a `worker_threads` worker fed the way the browser's
 * hash worker is (bytes copied into pooled buffers that are transferred there and back).
 *
 *   npx tsx bench/hashThreads.ts [--mb 256] [--piece-kb 256] [--runs 5]
 *
 * Reports, per run and as medians, the wall time to hash `--mb` MiB handed over in `--piece-kb` pieces and
 * the main thread's busy time (`performance.eventLoopUtilization`), which is what a transfer on that thread
 * would lose. Interleaved runs.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const total = arg('mb', 256) * 1024 * 1024;
const piece = arg('piece-kb', 256) * 1024;
const runs = arg('runs', 5);
const data = new Uint8Array(piece).map((_, i) => (i * 31) & 0xff);

/** The worker: one hasher, buffers sent back after each update, the digest on `null`. */
const workerCode = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let h = createHash('sha256');
parentPort.on('message', (m) => {
  if (m === null) { parentPort.postMessage(h.digest('hex')); h = createHash('sha256'); return; }
  h.update(m);
  parentPort.postMessage(m.buffer, [m.buffer]);
});`;

/** Runs `body`, returning wall ms and main-thread busy ms. */
async function measure(body: () => Promise<string> | string) {
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const hex = await body();
  const wall = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  // `active` is ms the loop was busy; a synchronous body is busy for all of it.
  return { wall, busy: Math.max(elu.active, 0) || wall, hex };
}

const inMain = () => {
  const h = createHash('sha256');
  for (let n = 0; n < total; n += piece) h.update(data);
  return h.digest('hex');
};

async function inWorker(worker: Worker): Promise<string> {
  const idle: ArrayBuffer[] = [];
  let waiting: (() => void) | undefined;
  let digest!: (hex: string) => void;
  const done = new Promise<string>((r) => (digest = r));
  const onMessage = (m: ArrayBuffer | string) => {
    if (typeof m === 'string') return digest(m);
    idle.push(m);
    waiting?.();
  };
  worker.on('message', onMessage);
  let allocated = 0;
  for (let n = 0; n < total; n += piece) {
    if (!idle.length && allocated >= 8) await new Promise<void>((r) => (waiting = r));
    const buffer = idle.pop() ?? (allocated++, new ArrayBuffer(piece));
    const view = new Uint8Array(buffer);
    view.set(data);
    worker.postMessage(view, [buffer]);
  }
  worker.postMessage(null);
  const hex = await done;
  worker.off('message', onMessage);
  return hex;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const worker = new Worker(workerCode, { eval: true });
  const rows: Record<'main' | 'worker', { wall: number; busy: number }[]> = { main: [], worker: [] };
  console.log(`| run | SHA-256 on | MiB | wall ms | main thread busy ms | MB/s |`);
  console.log(`|---|---|---|---|---|---|`);
  let want: string | undefined;
  for (let i = 0; i < runs; i++) {
    for (const where of i % 2 ? (['worker', 'main'] as const) : (['main', 'worker'] as const)) {
      const r = await measure(where === 'main' ? inMain : () => inWorker(worker));
      want ??= r.hex;
      if (r.hex !== want) throw new Error(`${where}: digest differs`);
      rows[where].push(r);
      console.log(`| ${i + 1} | ${where} | ${total / 2 ** 20} | ${r.wall.toFixed(0)} | ${r.busy.toFixed(0)} | ${(total / 1e6 / (r.wall / 1000)).toFixed(0)} |`);
    }
  }
  for (const where of ['main', 'worker'] as const) {
    const w = median(rows[where].map((r) => r.wall));
    console.log(`| median | ${where} | ${total / 2 ** 20} | ${w.toFixed(0)} | ${median(rows[where].map((r) => r.busy)).toFixed(0)} | ${(total / 1e6 / (w / 1000)).toFixed(0)} |`);
  }
  await worker.terminate();
}

await main();
