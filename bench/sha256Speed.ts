/**
 * SHA-256 speed of each implementation the library can use, on this thread: node:crypto (Node's default),
 * sha256Small (our own WebAssembly module: the browser hash worker's), hash-wasm (what the worker ran before,
 * a devDependency kept for this comparison) and @noble/hashes (the pure-JS fallback where no worker starts).
 *
 *   npx tsx bench/sha256Speed.ts [--mb 64] [--piece-kb 1024] [--runs 5]
 *
 * Interleaved runs, `--mb` MiB of pseudo-random bytes handed over in `--piece-kb` pieces; prints MiB/s per run
 * and the medians, and checks that every implementation gives the same digest.
 */
import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2';
import { createSHA256 } from 'hash-wasm';
import { createSha256Small } from '../src/hash/sha256Small';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const mib = arg('mb', 64);
const piece = arg('piece-kb', 1024) * 1024;
const runs = arg('runs', 5);
const data = new Uint8Array(mib * 1024 * 1024);
for (let i = 0, x = 1; i < data.length; i++) data[i] = (x = (x * 1_103_515_245 + 12_345) >>> 0) >>> 24;

type Hasher = { update(d: Uint8Array): unknown; hex(): string };
const hexOf = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
const wasm = await createSHA256();
const systems: Record<string, () => Hasher> = {
  'node:crypto': () => {
    const h = createHash('sha256');
    return { update: (d) => h.update(d), hex: () => h.digest('hex') };
  },
  sha256Small: () => {
    const h = createSha256Small();
    return { update: (d) => h.update(d), hex: () => h.digest('hex') };
  },
  'hash-wasm': () => {
    wasm.init();
    return { update: (d) => wasm.update(d), hex: () => wasm.digest('hex') };
  },
  '@noble/hashes': () => {
    const h = sha256.create();
    return { update: (d) => h.update(d), hex: () => hexOf(h.digest()) };
  },
};

const rates: Record<string, number[]> = Object.fromEntries(Object.keys(systems).map((k) => [k, []]));
const digests = new Set<string>();
for (let r = 0; r < runs; r++) {
  for (const [name, make] of Object.entries(systems)) {
    const t0 = performance.now();
    const h = make();
    for (let at = 0; at < data.length; at += piece) h.update(data.subarray(at, at + piece));
    digests.add(h.hex());
    rates[name].push(mib / ((performance.now() - t0) / 1000));
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`SHA-256 of ${mib} MiB in ${piece / 1024} KiB pieces, ${runs} interleaved runs (MiB/s)`);
for (const [name, v] of Object.entries(rates)) console.log(`${name.padEnd(14)} median ${median(v).toFixed(0).padStart(5)}   runs ${v.map((x) => x.toFixed(0)).join(', ')}`);
if (digests.size !== 1) throw new Error(`implementations disagree: ${[...digests].join(' ')}`);
console.log(`all agree: ${[...digests][0]}`);
