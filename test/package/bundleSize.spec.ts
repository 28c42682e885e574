/**
 * What a browser app pays for tallow-rx: `import { sendFile, receiveFile } from 'tallow-rx'` bundled the way
 * an app would (esbuild, minified, ESM, platform browser, code splitting, rxjs external), gzipped, counting
 * every chunk the entry can load (static and dynamic imports, SHA-256 and the hash worker included).
 *
 * Built from the package, not from `src/` directly and not from `dist/`: the project's tsup config builds
 * `src/` (no d.ts, no source maps: about 2 s) into a temporary `node_modules/tallow-rx` under `.tmp/`, and
 * esbuild resolves `tallow-rx` through its `exports` map as an app's bundler would. So the figure is what
 * users get from this commit, while `dist/` may be stale (nothing here runs `npm run build`) and is never
 * touched. `npx vitest run test/package/bundleSize.spec.ts` prints the figures (docs/benchmarks.md).
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

/** Issue #14's budget for sendFile + receiveFile, every chunk, gzipped (KB = 1,000 bytes, as the issue counts). */
const TARGET_GZ_BYTES = 30_000;
/**
 * What this commit is held to until the transfer code shrinks to the target: 44.8 KB when this test was
 * written (main chunk 34.5 KB, hash worker script 7.9 KB, pure-JS SHA-256 fallback 2.5 KB); 51.0 KB once
 * in-band lanes landed (main chunk 40.6 KB: the lane pools, their signalling and the lane controller are in
 * every sendFile/receiveFile bundle; loading them lazily is the next cut). A few KB of growth fails here.
 * Lower it whenever the bundle shrinks.
 */
const CEILING_GZ_BYTES = 53_000;
/** `reorder` alone: an app that uses one operator pays for that operator. */
const REORDER_GZ_BYTES = 3_000;

let dir: string;

beforeAll(async () => {
  await mkdir(join(root, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(root, '.tmp', 'bundle-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tallow-rx-bundle-probe', private: true }));
  const pkg = join(dir, 'node_modules', 'tallow-rx');
  await mkdir(pkg, { recursive: true });
  await copyFile(join(root, 'package.json'), join(pkg, 'package.json'));
  const { build } = await import('tsup');
  await build({ config: join(root, 'tsup.config.ts'), outDir: join(pkg, 'dist'), dts: false, sourcemap: false, silent: true });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One output chunk: its name, minified bytes and gzipped bytes. */
interface ChunkSize {
  readonly file: string;
  readonly bytes: number;
  readonly gzBytes: number;
}

/** Bundles `code` (an app's entry) and sizes every chunk reachable from it. */
async function bundle(code: string): Promise<{ chunks: ChunkSize[]; gzBytes: number }> {
  const { build } = await import('esbuild');
  const outdir = join(dir, 'out');
  const result = await build({
    stdin: { contents: code, resolveDir: dir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    splitting: true,
    external: ['rxjs'],
    outdir,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const text = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  const key = (p: string) => Object.keys(outputs).find((k) => resolve(root, k) === resolve(root, p) || k.endsWith(p));
  // esbuild emits a chunk for every dynamic import it saw, reachable or not: follow the entry's imports.
  const entry = Object.keys(outputs).find((k) => outputs[k].entryPoint !== undefined)!;
  const seen = new Set<string>([entry]);
  for (const k of seen) for (const i of outputs[k].imports) if (!i.external && key(i.path)) seen.add(key(i.path)!);
  const chunks = [...seen].map((k) => {
    const bytes = text.get(resolve(k))!;
    return { file: k.slice(k.lastIndexOf('/') + 1), bytes: bytes.length, gzBytes: gzipSync(bytes, { level: 9 }).length };
  });
  return { chunks, gzBytes: chunks.reduce((n, c) => n + c.gzBytes, 0) };
}

const report = (what: string, r: { chunks: ChunkSize[]; gzBytes: number }) =>
  `${what}: ${(r.gzBytes / 1000).toFixed(1)} KB gzipped in ${r.chunks.length} chunk(s): ` +
  r.chunks.map((c) => `${c.file} ${(c.bytes / 1000).toFixed(1)} KB / ${(c.gzBytes / 1000).toFixed(1)} KB gz`).join(', ');

describe('browser bundle size (esbuild, minified, ESM, browser, rxjs external, gzip -9)', () => {
  it(`sendFile + receiveFile, every chunk it can load: at most ${CEILING_GZ_BYTES / 1000} KB gzipped`, async () => {
    const r = await bundle("export { sendFile, receiveFile } from 'tallow-rx';");
    console.log(report('sendFile + receiveFile', r));
    // The lazy chunks (the hash worker, the fallback SHA-256) hold hash-wasm's SHA-256 alone, not all of hash-wasm (216 KB, 81 KB gzipped).
    expect(r.chunks.slice(1).every((c) => c.gzBytes < 12_000), report('a lazy chunk over 12 KB gz', r)).toBe(true);
    expect(r.gzBytes, report('sendFile + receiveFile', r)).toBeLessThanOrEqual(CEILING_GZ_BYTES);
  });

  // Issue #14's target, not met yet: the transfer code's main chunk alone is over 30 KB gzipped. `it.fails`
  // keeps the figure honest both ways: this turns red the day the bundle fits, to be made a plain `it`.
  it.fails(`sendFile + receiveFile: at most ${TARGET_GZ_BYTES / 1000} KB gzipped (issue #14, not met yet)`, async () => {
    const r = await bundle("export { sendFile, receiveFile } from 'tallow-rx';");
    expect(r.gzBytes, report('sendFile + receiveFile', r)).toBeLessThanOrEqual(TARGET_GZ_BYTES);
  });

  it(`reorder alone: at most ${REORDER_GZ_BYTES / 1000} KB gzipped, no hashing chunk`, async () => {
    const r = await bundle("export { reorder } from 'tallow-rx';");
    console.log(report('reorder', r));
    expect(r.chunks, report('reorder', r)).toHaveLength(1);
    expect(r.gzBytes, report('reorder', r)).toBeLessThanOrEqual(REORDER_GZ_BYTES);
  });
});
