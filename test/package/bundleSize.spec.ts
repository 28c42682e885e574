/**
 * What a browser app pays for tallow-rx: `import { sendFile, receiveFile } from 'tallow-rx'` bundled the way
 * an app would (esbuild, minified, ESM, platform browser, code splitting, rxjs external), gzipped.
 *
 * Two totals, both held to a ceiling:
 * - **a default browser transfer**, the headline and issue #14's figure: the entry chunk plus every lazy chunk
 *   a transfer with default options loads in a browser that can start a worker (the hash worker script, which
 *   holds SHA-256, included);
 * - **every chunk the entry can load**: that plus the chunks {@link CONDITIONAL} names, each loaded only in the
 *   case it says (today: the pure-JS SHA-256 where no worker can start).
 * A lazy chunk that no rule names counts toward the default transfer, so a new one cannot hide.
 *
 * Built from the package, not from `src/` directly and not from `dist/`: the project's tsup config builds
 * `src/` (no d.ts, no source maps: about 2 s) into a temporary `node_modules/tallow-rx` under `.tmp/`, and
 * esbuild resolves `tallow-rx` through its `exports` map as an app's bundler would. So the figure is what
 * users get from this commit, while `dist/` may be stale (nothing here runs `npm run build`) and is never
 * touched. A second bundle of the same entry straight from `src/` gives the breakdown by source file (the
 * esbuild metafile: minified bytes and share of the gzipped size); it must agree with the package's figure.
 * `npx vitest run test/package/bundleSize.spec.ts` prints all of it (docs/benchmarks.md, "Bundle size").
 */
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildOptions } from 'esbuild';
import { APP_BUNDLE_OPTIONS } from './appBundleOptions';
import { privateNamesPattern } from '../../scripts/privateNames.mjs';

const root = resolve(__dirname, '../..');

/** Issue #14's budget for sendFile + receiveFile on a default browser transfer, gzipped (KB = 1,000 bytes, as the issue counts). */
const TARGET_GZ_BYTES = 30_000;
/**
 * What this commit is held to until the transfer code shrinks to the target (docs/benchmarks.md, "Bundle
 * size", has the history, the breakdown and what 30 KB would take). A default browser transfer: 54.5 KB (main
 * chunk 46.4 KB, hash worker script 8.1 KB) since in-band lanes got watermarks in time and a control-only given
 * connection (+1 KB), the sender one hand-off for both hashes and its probe check (+0.5 KB), sends spread
 * over tasks, the lane ramp and the held-candidate bound (+0.5 KB), the checks of every option, input and
 * connection at subscription (src/transfer/checkOptions.ts and the option tables, +1.2 KB; 53.3 KB before), and
 * the fixes the outside checks asked for on 6 Dec (+1.2 KB: the listing's tree on landing paths pulls
 * sanitizeFileName in, a resumed offer's listing, the session's reorder budget, the reconnect grace, a dropped
 * lane's channels): 56.0 KB; the fixes of the outside checks and the poor-link stalls on 6 Dec (+1.0 KB: the
 * sender's re-injection of a stalled lane's chunks, any data channel whose send fails as closed, a dead lane's
 * shed, the receiver's timed ack and its reorder window from the offer, the chunking checks, the acks' backlog
 * in the stats): 57.0 KB; the hash worker on our own 0.8 KB WebAssembly SHA-256 (src/hash/sha256.wat) instead of
 * hash-wasm's, the worker script from 8.1 to 2.6 KB (6 Dec, 16:00 UTC): 51.8 KB (main chunk 49.2 KB). Measured
 * from the package itself since 16:40 UTC (before, tsconfig's `paths` made it src's, within 2 %): 51.2 KB; ten
 * long functions split at 80 lines (+0.9 KB) and the evening's fixes (+0.2 KB): 52.3 KB; the tuning options'
 * checks by rule table and a config that is not an object refused by every operator and source (+0.26 KB, one
 * shared helper, configObject): 52.5 KB; the outside checks' fixes of the evening (a done with too many chunks, the
 * control stream in an offer's ids, +0.3 KB): 52.8 KB; channel, list and stream arguments checked (+0.1 KB): 52.9 KB; the receiver's chunk-count check on one counter less: 52.8 KB; the outside checks of 6 Dec (night): unknown option keys refused, a stream longer than its size failed, writableTarget/Demand/FramePool arguments checked, an input that is no file named by its class (+0.4 KB): 53.2 KB; class fields assigned in the constructor (tsconfig `useDefineForClassFields: false`, -0.4 KB): 52.8 KB; a misbehaving receive target that took the process down (its calls made safe, open's result checked, the sink's counts checked, the abort wait bounded) and the second checks' fixes (+0.4 KB, ceilings +0.5 KB): 53.2 KB; the checks of 7 Dec (a chunk NACKed without end, a second done after every byte, blobTarget folding every 16 MiB, progress after a resume, the connection's listener limit; the NACK message shortened and the listener helper cut to one loop to pay for part of it, +0.3 KB, ceilings +0.1 KB): 53.5 KB; the last check of 7 Dec (a loss while the receiver's accept was pending completed with 0 files: the answer carried over; a loss in the tick of the answer was ERR_INTERNAL; timers over 2^31 - 1 ms refused; the 17th session a LimitExceededError, +0.2 KB, ceilings +0.2 KB): 53.7 KB; the outside checks of 7 Dec (morning: a slow
 * finish is not idleness, stats after a resume, unreliable gaps per channel, +0.3 KB) and the package build's
 * shortened private names (-1.0 KB; test/package/builtTransfer.spec.ts runs whole transfers from that build): 53.2 KB,
 * and the ceilings came down by 0.4 KB; the later checks of that morning (timers that hold one action in virtual
 * time, a failure during a finish settled in its tick, the peer's cancel kept while files are placed, the loss
 * rate over 5 s, +0.3 KB): 53.5 KB, ceilings 53.7 / 56.2 KB, still 0.1 KB under those of the night before; a slow
 * path (watermarks in time and a slow start on the given connections, a NACK before the first copy postponed, a
 * copy's resend interval from when it was seen leaving, +0.3 KB, ceilings +0.2 KB): 53.8 KB; what the outside checks
 * of that morning found on slow paths (the rate from what left the channels, backpressure's frameCredit, the
 * chunk size in time, the receiver's pace per channel, NACKs for queued copies ignored, +0.4 KB, ceilings +0.4 KB):
 * 54.2 KB; the second round of those checks (NACKs remembered until the receiver shows it repeats them, a file's
 * opening credit of one frame, fixed-count lanes' byte watermark, +0.2 KB, ceilings +0.2 KB): 54.4 KB; the outside
 * checks of the nineteenth session (the sender watching its connection until the answer, a lane gone before data
 * a lane lost on both sides, ids in use told to the sender, files confirmed by a resumed run's skip,
 * backpressure's `channels`, maxChunk bringing minChunk down, +0.5 KB, ceilings +0.5 KB): 54.9 KB; the third
 * round of those checks (a resumed skip's digest checked, an offer of another id on new connections refused,
 * chunk sizes the receiver would refuse caught at subscription, backpressure's end when every channel closed,
 * +0.4 KB, ceilings +0.4 KB): 55.3 KB; the twentieth session's checks (backpressure's `allClosed`, reorder waiting
 * for `end` after its source and counting each held chunk's overhead, unsubscribing in an event handler,
 * +0.4 KB, ceilings +0.4 KB): 55.7 KB; then a resume past a file's end refused as it arrives and the quiet a
 * missing last chunk needs on a slow link (+0.1 KB, ceilings +0.2 KB): 55.8 KB; the later checks of that
 * session (the control connection watched for the whole session, names over 1,024 characters refused, a
 * control channel of another session passed on between resumed receivers, a failure told to the peer no
 * connection loss, +0.6 KB, ceilings +0.6 KB): 56.4 KB. A KB or two
 * of growth fails here; lower it whenever the bundle shrinks.
 */
const DEFAULT_CEILING_GZ_BYTES = 56_600;
/** The same, with every conditional chunk too: 58.9 KB (the pure-JS SHA-256 fallback adds 2.5 KB). */
const ALL_CEILING_GZ_BYTES = 59_100;
/** Any one lazy chunk: the hash worker script (2.6 KB) or the pure-JS fallback (2.5 KB); hash-wasm's SHA-256 was 7.9 KB, all of hash-wasm 81 KB. */
const LAZY_CHUNK_GZ_BYTES = 4_000;
/**
 * `reorder` alone: an app that uses one operator pays for that operator. 1.9 KB from the package since the option
 * tables are built when asked and the module-level probes are marked pure (2.7 KB before; 1.2 KB was src's figure);
 * 2.0 KB since its split at 80 lines per function, 2.3 KB since every operator refuses a config that is not an
 * object with the named InvalidConfigError (src/configObject.ts, kept apart from the option tables); 2.57 KB since
 * a source that completes before `end` waits for the total and each held chunk counts `chunkOverheadBytes`
 * (twentieth session: a truncated file came out whole, and 1-byte chunks held gigabytes inside the bound).
 */
const REORDER_GZ_BYTES = 2_600;

/** Lazy chunks a default browser transfer does not load: the chunk holding an input that matches, and when it loads. */
const CONDITIONAL: readonly { readonly input: RegExp; readonly when: string }[] = [
  { input: /sha256Js|@noble[\\/]hashes/, when: 'only where no hash worker can start (no Worker, or a CSP without blob: workers)' },
];

/** Source files no chunk of a default transfer may hold, and why: cuts this spec keeps from growing back. */
const NOT_IN_A_TRANSFER: Readonly<Record<string, string>> = {
  'src/stats/parseStatsReport.ts': 'the whole getStats() parse is for statsSamples users; a transfer reads only the RTT (reportRtt.ts)',
};

const ENTRY = "export { sendFile, receiveFile } from 'tallow-rx';";

let dir: string;

beforeAll(async () => {
  // Outside the repository: inside it, esbuild would honour tsconfig.json's `paths` and resolve `tallow-rx` to
  // src/index.ts, not to the package (until 6 Dec, 16:40 UTC the figures were src's: `reorder` 1.3 KB gzipped
  // against the package's 2.7 KB, which an outside check measured).
  dir = await mkdtemp(join(tmpdir(), 'tallow-rx-bundle-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tallow-rx-bundle-probe', private: true }));
  const pkg = join(dir, 'node_modules', 'tallow-rx');
  await mkdir(pkg, { recursive: true });
  // The package's one dependency a browser bundle takes in (the pure-JS SHA-256 fallback); rxjs stays external.
  await symlink(join(root, 'node_modules', '@noble'), join(dir, 'node_modules', '@noble'));
  await copyFile(join(root, 'package.json'), join(pkg, 'package.json'));
  const { build } = await import('tsup');
  await build({ config: join(root, 'tsup.config.ts'), outDir: join(pkg, 'dist'), dts: false, sourcemap: false, silent: true });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One input of a chunk: its path (from the repository root) and its minified bytes in the chunk. */
interface InputSize {
  readonly path: string;
  readonly bytes: number;
}

/** One output chunk: its name, minified and gzipped bytes, when it loads, and what went into it. */
interface ChunkSize {
  readonly file: string;
  readonly bytes: number;
  readonly gzBytes: number;
  /** `default` for the entry and the chunks a default browser transfer loads, else {@link CONDITIONAL}'s `when`. */
  readonly when: string;
  readonly inputs: readonly InputSize[];
}

/** The chunks an entry can load, and the gzipped totals. */
interface BundleSize {
  readonly chunks: readonly ChunkSize[];
  /** The entry and the chunks a default browser transfer loads. */
  readonly defaultGzBytes: number;
  /** Every chunk the entry can load. */
  readonly gzBytes: number;
}

/** Bundles `code` (an app's entry; `from` resolves its imports) and sizes every chunk reachable from it. */
async function bundle(code: string, from: { resolveDir: string; loader: 'js' | 'ts' }, extra: BuildOptions = {}): Promise<BundleSize> {
  const { build } = await import('esbuild');
  const outdir = join(dir, 'out');
  const result = await build({
    stdin: { contents: code, ...from },
    ...APP_BUNDLE_OPTIONS,
    ...extra,
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
  const chunks = [...seen].map((k): ChunkSize => {
    const bytes = text.get(resolve(k))!;
    const inputs = Object.entries(outputs[k].inputs)
      .map(([path, v]) => ({ path: relative(root, resolve(path)), bytes: v.bytesInOutput }))
      .sort((a, b) => b.bytes - a.bytes);
    const rule = k === entry ? undefined : CONDITIONAL.find((c) => inputs.some((i) => c.input.test(i.path)));
    return { file: k.slice(k.lastIndexOf('/') + 1), bytes: bytes.length, gzBytes: gzipSync(bytes, { level: 9 }).length, when: rule?.when ?? 'default', inputs };
  });
  const sum = (cs: readonly ChunkSize[]) => cs.reduce((n, c) => n + c.gzBytes, 0);
  return { chunks, defaultGzBytes: sum(chunks.filter((c) => c.when === 'default')), gzBytes: sum(chunks) };
}

/** The app's entry against the package built from this commit. */
const fromPackage = (code: string) => bundle(code, { resolveDir: dir, loader: 'js' });

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const chunkLine = (c: ChunkSize) => `${c.file} ${kb(c.bytes)} / ${kb(c.gzBytes)} gz${c.when === 'default' ? '' : ` (${c.when})`}`;
const report = (what: string, r: BundleSize) =>
  `${what}: ${kb(r.defaultGzBytes)} gzipped on a default browser transfer, ${kb(r.gzBytes)} with every chunk it can load, ` +
  `in ${r.chunks.length} chunk(s): ${r.chunks.map(chunkLine).join(', ')}`;

/**
 * Each chunk's inputs by minified bytes, and each one's share of the chunk's gzipped size (in proportion to
 * its minified bytes: gzip does not say which input a compressed byte came from).
 */
const breakdown = (r: BundleSize, top = 40) =>
  r.chunks
    .map((c) => {
      const lines = c.inputs.filter((i) => i.bytes > 0).slice(0, top);
      const rest = c.inputs.slice(top).reduce((n, i) => n + i.bytes, 0);
      const share = (bytes: number) => kb((c.gzBytes * bytes) / c.bytes);
      return [
        `${chunkLine(c)}:`,
        ...lines.map((i) => `  ${kb(i.bytes).padStart(9)} min  ${share(i.bytes).padStart(8)} gz  ${i.path}`),
        ...(rest ? [`  ${kb(rest).padStart(9)} min  ${share(rest).padStart(8)} gz  (${c.inputs.length - top} more inputs)`] : []),
      ].join('\n');
    })
    .join('\n');

describe('browser bundle size (esbuild, minified, ESM, browser, rxjs external, gzip -9)', () => {
  it(`sendFile + receiveFile: at most ${kb(DEFAULT_CEILING_GZ_BYTES)} gzipped on a default transfer, ${kb(ALL_CEILING_GZ_BYTES)} with every chunk`, async () => {
    const r = await fromPackage(ENTRY);
    console.log(report('sendFile + receiveFile', r));
    expect(r.chunks.slice(1).every((c) => c.gzBytes < LAZY_CHUNK_GZ_BYTES), report(`a lazy chunk over ${kb(LAZY_CHUNK_GZ_BYTES)} gz`, r)).toBe(true);
    // The default transfer's hashing is in a lazy chunk: the hash worker script (with SHA-256) counts, the fallback does not.
    expect(r.chunks.filter((c) => c.when === 'default').length, report('sendFile + receiveFile', r)).toBeGreaterThanOrEqual(2);
    expect(r.chunks.filter((c) => c.when !== 'default').length, report('sendFile + receiveFile', r)).toBe(CONDITIONAL.length);
    expect(r.defaultGzBytes, report('sendFile + receiveFile', r)).toBeLessThanOrEqual(DEFAULT_CEILING_GZ_BYTES);
    expect(r.gzBytes, report('sendFile + receiveFile', r)).toBeLessThanOrEqual(ALL_CEILING_GZ_BYTES);
  });

  it('sendFile + receiveFile from src/: the breakdown by source file agrees with the package', async () => {
    // From src with the private names shortened as the package build does (tsup.config.ts), so that sizes compare.
    const mangled = { mangleProps: privateNamesPattern(root) };
    const [pkg, src] = await Promise.all([fromPackage(ENTRY), bundle(ENTRY.replace("'tallow-rx'", "'./src/index.ts'"), { resolveDir: root, loader: 'ts' }, mangled)]);
    console.log(`sendFile + receiveFile, by source file (from src/):\n${breakdown(src)}`);
    expect(src.chunks.map((c) => c.when)).toEqual(pkg.chunks.map((c) => c.when));
    const carried = src.chunks.filter((c) => c.when === 'default').flatMap((c) => c.inputs.map((i) => i.path));
    for (const [path, why] of Object.entries(NOT_IN_A_TRANSFER)) expect(carried, why).not.toContain(path);
    // Within 2 %: the tsup build in between adds nothing an app would pay for.
    expect(Math.abs(src.gzBytes - pkg.gzBytes) / pkg.gzBytes, `${report('src', src)}\n${report('package', pkg)}`).toBeLessThan(0.02);
  });

  // Issue #14's target, not met yet: the transfer code's main chunk alone is over 30 KB gzipped. `it.fails`
  // keeps the figure honest both ways: this turns red the day the bundle fits, to be made a plain `it`.
  it.fails(`sendFile + receiveFile on a default transfer: at most ${kb(TARGET_GZ_BYTES)} gzipped (issue #14, not met yet)`, async () => {
    const r = await fromPackage(ENTRY);
    expect(r.defaultGzBytes, report('sendFile + receiveFile', r)).toBeLessThanOrEqual(TARGET_GZ_BYTES);
  });

  it(`reorder alone: at most ${kb(REORDER_GZ_BYTES)} gzipped, no hashing chunk`, async () => {
    const r = await fromPackage("export { reorder } from 'tallow-rx';");
    console.log(report('reorder', r));
    expect(r.chunks, report('reorder', r)).toHaveLength(1);
    expect(r.gzBytes, report('reorder', r)).toBeLessThanOrEqual(REORDER_GZ_BYTES);
  });
});
