/**
 * Main-thread long tasks during a transfer in Chromium, SHA-256 on the main thread against SHA-256 in the
 * library's hash worker, interleaved in one browser run:
 *
 *   npx tsx bench/hashWorker.ts [--mb 256] [--runs 3] [--profile]
 *
 * Both peers are in one page (two RTCPeerConnections, test/browser/page/hashWorkerTransfers.ts), so that
 * page's main thread carries the sender's and the receiver's work: the worst case for one page. Each run
 * sends `--mb` MiB from a Blob to the default Blob target. `main` passes `createHash: createSha256Wasm`
 * (WebAssembly SHA-256 on the main thread, as every browser transfer hashed before the worker, then with
 * hash-wasm; now the worker's own module); `worker` is the
 * default. Long tasks: PerformanceObserver `longtask`; total blocking time is the sum over 50 ms.
 * Prints one Markdown row per run and the medians. With `--profile` the page's main thread is sampled too
 * (CDP, 1 ms): its busy time during the call (test-data set-up and WebCrypto checks included, the same in
 * both modes) and, after the table, the functions that took most of it in each mode's last run.
 */
import type { MainThreadProfile } from '../test/browser/fixtures/hashWorkerRunner';
import { spawnChromiumRunner } from '../test/harness/chromium';
import type { HashRunResult } from '../test/browser/page/hashWorkerTransfers';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MiB = 1024 * 1024;
const size = arg('mb', 256) * MiB;
const runs = arg('runs', 3);
const profile = process.argv.includes('--profile');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (ms: number[]) => ({ count: ms.filter((d) => d > 50).length, tbt: ms.reduce((n, d) => n + Math.max(0, d - 50), 0), max: Math.max(0, ...ms) });

async function main(): Promise<void> {
  const runner = await spawnChromiumRunner(new URL('../test/browser/fixtures/hashWorkerRunner.ts', import.meta.url), {
    bundles: { hashWorker: 'test/browser/page/hashWorkerTransfers.ts' },
    timeoutMs: 60_000,
  });
  let id = 0;
  const transfer = (hashOn: 'main' | 'worker') =>
    new Promise<HashRunResult & { profile?: MainThreadProfile }>((resolve, reject) => {
      const mine = ++id;
      const off = runner.port.onMessage((data) => {
        const r = data as { id: number; ok: boolean; value?: HashRunResult; error?: string };
        if (r.id !== mine) return;
        off();
        if (r.ok) resolve(r.value!);
        else reject(new Error(r.error));
      });
      runner.port.send({ id: mine, options: { size, seed: mine, hashOn, timeoutMs: 900_000 }, profile });
    });
  const rows: Record<'main' | 'worker', { mbps: number; count: number; tbt: number; max: number; busy: number }[]> = { main: [], worker: [] };
  const tops: Partial<Record<'main' | 'worker', MainThreadProfile['top']>> = {};
  console.log(`| run | SHA-256 on | MiB | Mbit/s | long tasks | total blocking ms | longest ms | main thread busy ms | digests equal |`);
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  try {
    for (let i = 0; i < runs; i++) {
      for (const hashOn of i % 2 ? (['worker', 'main'] as const) : (['main', 'worker'] as const)) {
        const r = await transfer(hashOn);
        if (r.outcome !== 'completed') throw new Error(`${hashOn} run ${i + 1}: ${r.outcome} ${r.error ?? ''}`);
        const s = summary(r.longTasksMs);
        const equal = r.senderSha256 === r.sourceSha256 && r.receiverSha256 === r.sourceSha256 && r.receivedSha256 === r.sourceSha256;
        const busy = r.profile?.busyMs ?? NaN;
        if (r.profile) tops[hashOn] = r.profile.top;
        rows[hashOn].push({ mbps: r.mbps, ...s, busy });
        console.log(`| ${i + 1} | ${hashOn} | ${size / MiB} | ${r.mbps.toFixed(0)} | ${s.count} | ${s.tbt.toFixed(0)} | ${s.max.toFixed(0)} | ${profile ? busy : '-'} | ${equal} |`);
      }
    }
    for (const hashOn of ['main', 'worker'] as const) {
      const rs = rows[hashOn];
      console.log(
        `| median | ${hashOn} | ${size / MiB} | ${median(rs.map((r) => r.mbps)).toFixed(0)} | ${median(rs.map((r) => r.count))} | ${median(rs.map((r) => r.tbt)).toFixed(0)} | ${median(rs.map((r) => r.max)).toFixed(0)} | ${profile ? median(rs.map((r) => r.busy)) : '-'} | |`,
      );
    }
    for (const [hashOn, top] of Object.entries(tops)) {
      console.log(`\nmain thread, SHA-256 on ${hashOn} (last run), self time:`);
      for (const t of top) console.log(`  ${String(t.ms).padStart(6)} ms  ${t.fn}`);
    }
  } finally {
    await runner.close();
  }
}

await main();
