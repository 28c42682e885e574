/**
 * Slow paths in virtual time: `sendFile` → `receiveFile` over virtual links of 10-50 kB/s, 1-4 data channels,
 * reliable and unreliable with 0-20 % loss on the data channels, 5 seeds per case, and four links that change
 * mid-transfer. Prints each case's runs (time against the link's time for the bytes, KiB resent, messages the link
 * dropped) and the failures. Deterministic: virtual time, so the machine's load changes nothing.
 * docs/reliability.md, item 3, cites it. With `--edge`, the edge instead: 10 kB/s unreliable with 5-20 % loss and
 * 2-5 kB/s reliable, 20 seeds each, where some runs end in `IdleTimeoutError` (the limit reliability.md states).
 *
 *   npx tsx bench/slowPathSweep.ts
 *   npx tsx bench/slowPathSweep.ts --edge
 */
import { TestScheduler } from 'rxjs/testing';
import { receiveFile, sendFile } from '../src/index';
import { createVirtualLink } from '../src/testing';
import { CONTROL_LABEL } from '../src/transfer/transferChannels';

/** `size` bytes of a pattern that differs per seed. */
const pattern = (size: number, seed: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 31 + seed * 7 + (i >> 9)) % 251);

interface Case {
  readonly bandwidth: number;
  readonly lossRate: number;
  readonly channels: number;
  readonly size: number;
  readonly delayMs: number;
  readonly reliability: 'reliable' | 'unreliable';
  /** At `atMs`, `link.reconfigure(change)`. */
  readonly steps?: readonly (readonly [number, { bandwidth?: number; lossRate?: number }])[];
}

/** One transfer: whether both sides completed, its time over the link's time, bytes resent, messages dropped. */
function one(c: Case, seed: number): { ok: boolean; why: string; x: number; resentKiB: number; dropped: number } {
  const ts = new TestScheduler(() => undefined);
  let rx = 'pending';
  let tx = 'pending';
  let endedAt = 0;
  let resent = 0;
  let dropped = 0;
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, bandwidth: c.bandwidth, delayMs: c.delayMs, lossRate: c.lossRate, seed, faultFilter: (ch) => ch.label !== CONTROL_LABEL });
    for (const [atMs, change] of c.steps ?? []) ts.schedule(() => link.reconfigure(change), atMs);
    receiveFile(link.b, { scheduler: ts }).subscribe({ error: (e: { code: string }) => (rx = e.code), complete: () => (rx = 'ok') });
    sendFile(link.a, pattern(c.size, seed), { scheduler: ts, channels: c.channels, reliability: c.reliability }).subscribe({
      next: (e) => e.type === 'completed' && (resent = e.retransmittedBytes ?? 0),
      error: (e: { code: string }) => ((tx = e.code), (endedAt = ts.now())),
      complete: () => ((tx = 'ok'), (endedAt = ts.now())),
    });
    ts.schedule(() => (dropped = link.stats().aToB.messagesDropped), 1e7);
  });
  return { ok: rx === 'ok' && tx === 'ok', why: `${rx}/${tx}`, x: endedAt / ((c.size / c.bandwidth) * 1000), resentKiB: Math.round(resent / 1024), dropped };
}

const grid = (bandwidths: number[], losses: number[], channels: number[], size: number, delayMs: number, reliability: Case['reliability']): Case[] =>
  bandwidths.flatMap((bandwidth) => losses.flatMap((lossRate) => channels.map((ch) => ({ bandwidth, lossRate, channels: ch, size, delayMs, reliability }))));

const edge = process.argv.includes('--edge');
const edgeCases: Case[] = [...grid([10_000], [0.05, 0.1, 0.2], [1, 2, 3, 4], 5e5, 20, 'unreliable'), ...grid([2_000, 5_000], [0], [1, 2], 2e5, 20, 'reliable')];
const sweepCases: Case[] = [
  ...grid([20_000, 50_000], [0.05, 0.1], [2, 3, 4], 2e6, 10, 'unreliable'),
  ...grid([10_000, 20_000], [0, 0.02, 0.05], [1, 2, 3, 4], 1e6, 25, 'unreliable'),
  ...grid([20_000, 50_000], [0.2], [2, 4], 2e6, 10, 'unreliable'),
  ...grid([20_000, 40_000], [0], [2, 3], 3e6, 10, 'reliable'),
  { bandwidth: 1e6, lossRate: 0.1, channels: 4, size: 4e6, delayMs: 10, reliability: 'unreliable', steps: [[1000, { bandwidth: 20_000 }], [60_000, { bandwidth: 1e6 }]] },
  { bandwidth: 1e6, lossRate: 0, channels: 4, size: 4e6, delayMs: 10, reliability: 'reliable', steps: [[1000, { bandwidth: 20_000 }], [60_000, { bandwidth: 1e6 }]] },
  { bandwidth: 100_000, lossRate: 0.02, channels: 2, size: 4e6, delayMs: 10, reliability: 'unreliable', steps: [[3000, { lossRate: 1 }], [23_000, { lossRate: 0.02 }]] },
  { bandwidth: 100_000, lossRate: 0.02, channels: 2, size: 4e6, delayMs: 10, reliability: 'unreliable', steps: [[3000, { bandwidth: 50 }], [23_000, { bandwidth: 100_000 }]] },
];

const cases = edge ? edgeCases : sweepCases;
const seeds = Array.from({ length: edge ? 20 : 5 }, (_, k) => k + 1);
let failed = 0;
let runs = 0;
for (const c of cases) {
  const cells = seeds.map((seed) => {
    const o = one(c, seed);
    runs++;
    if (!o.ok) failed++;
    return o.ok ? `${o.x.toFixed(2)}× r${o.resentKiB}K d${o.dropped}` : `FAIL ${o.why} d${o.dropped}`;
  });
  const change = c.steps ? ` steps ${JSON.stringify(c.steps)}` : '';
  console.log(`${c.reliability} ${c.bandwidth / 1000} kB/s loss ${c.lossRate} ch ${c.channels} ${c.size / 1e6} MB ${c.delayMs} ms${change}: ${cells.join(' | ')}`);
}
console.log(`${runs - failed} of ${runs} runs completed, ${failed} failed`);
process.exitCode = failed && !edge ? 1 : 0;
