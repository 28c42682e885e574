/**
 * What would bring `import { sendFile, receiveFile } from 'tallow-rx'` to issue #14's 30 KB: each candidate cut
 * measured on the same bundle as test/package/bundleSize.spec.ts (esbuild, minified, ESM, platform browser,
 * code splitting, rxjs external, gzip -9), built straight from `src/` (the spec checks that this agrees with the
 * package within 2 %). Sizes only, nothing runs: a module "made lazy" is marked external, which takes it and
 * whatever only it imports out of the main chunk; the chunk it would become is not counted (it would load only
 * in the case named). "Strings removed" replaces every string literal over 10 characters and every template
 * with `""`: the upper bound of what shorter messages could save. Also: two options of the package build
 * (mangled private names, assigned class fields), what the rxjs exports cost an app that bundles rxjs, and a
 * page that only sends or only receives. docs/benchmarks.md, "Bundle size".
 *
 *   npx tsx test/package/bundleWhatIf.ts
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';
import { APP_BUNDLE_OPTIONS } from './appBundleOptions';
import { privateNamesPattern } from '../../scripts/privateNames.mjs';

const root = resolve(import.meta.dirname, '../..');
const APP = "export { sendFile, receiveFile } from './src/index.ts';";

/** Gzipped bytes (level 9), as the spec counts. */
const gz = (text: string): number => gzipSync(Buffer.from(text), { level: 9 }).length;

/** Marks the modules whose file name (without extension) is in `names` external. */
const without = (names: readonly string[]): Plugin => ({
  name: 'without',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (a) => (names.includes(a.path.split('/').pop()!) ? { path: a.path, external: true } : undefined));
  },
});

/** The main chunk's text for `entry`, with `names` taken out (and `extra` esbuild options). */
async function mainChunk(names: readonly string[] = [], entry = APP, extra: BuildOptions = {}): Promise<string> {
  const r = await build({
    ...extra,
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    ...APP_BUNDLE_OPTIONS,
    outdir: resolve(root, '.tmp/what-if'),
    write: false,
    logLevel: 'silent',
    plugins: [without(names)],
  });
  return r.outputFiles.find((f) => f.path.endsWith('stdin.js'))!.text;
}

/** `code` with every string literal over 10 characters and every template replaced by `""`. */
function withoutStrings(code: string): string {
  const sf = ts.createSourceFile('chunk.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const spans: [number, number][] = [];
  const visit = (n: ts.Node): void => {
    const literal = (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && n.text.length > 10;
    if ((literal && !ts.isImportDeclaration(n.parent) && !ts.isExportDeclaration(n.parent)) || ts.isTemplateExpression(n)) spans.push([n.getStart(), n.end]);
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  return spans.sort((a, b) => b[0] - a[0]).reduce((out, [s, e]) => out.slice(0, s) + '""' + out.slice(e), code);
}


/** Gzipped bytes of the rxjs exports the main chunk imports, bundled alone, and what each one adds. */
async function rxjsCost(chunk: string): Promise<{ all: number; each: [string, number][] }> {
  const names = [...new Set([...chunk.matchAll(/import\{([^}]*)\}from"rxjs"/g)].flatMap((m) => m[1].split(',').map((n) => n.split(' as ')[0].trim())))];
  const size = async (ns: readonly string[]) => {
    const r = await build({ stdin: { contents: `export { ${ns.join(',')} } from 'rxjs';`, resolveDir: root }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    return gz(r.outputFiles[0].text);
  };
  const all = await size(names);
  const each: [string, number][] = [];
  for (const n of names) each.push([n, all - (await size(names.filter((x) => x !== n)))]);
  return { all, each: each.sort((a, b) => b[1] - a[1]) };
}

/** The hash worker script, as scripts/build-hash-worker.mjs bundles it, optionally with @noble/hashes standing in for our WebAssembly SHA-256. */
async function workerScript(noble: boolean): Promise<string> {
  const shim: Plugin = {
    name: 'noble-for-sha256Small',
    setup(b) {
      b.onResolve({ filter: /sha256Small$/ }, () => ({ path: 'sha256Small', namespace: 'shim' }));
      b.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({
        loader: 'js',
        resolveDir: root,
        contents: `import { sha256 } from '@noble/hashes/sha2';
          const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
          export function createSha256Small() { let h = sha256.create(); return { init() { h = sha256.create(); return this; }, update(d) { h.update(d); return this; }, digest() { return hex(h.digest()); } }; }`,
      }));
    },
  };
  const script = '../../scripts/build-hash-worker.mjs';
  const { HASH_WORKER_BUILD_OPTIONS } = (await import(script)) as { HASH_WORKER_BUILD_OPTIONS: BuildOptions & { write: false } };
  const r = await build({ ...HASH_WORKER_BUILD_OPTIONS, logLevel: 'silent', plugins: noble ? [shim] : [] });
  // As the library ships it: a string in a module of its own.
  return `export const hashWorkerSource = ${JSON.stringify(r.outputFiles[0].text.trim())};`;
}

/** The modules that open in-band lanes: needed only once a lane opens (auto on a loss-bound path, or `inbandLanes` > 0). */
const LANE_OPENING = ['SenderLanePool', 'ReceiverLanePool', 'negotiateLane', 'laneSignal'];
/** The reconnecting session: needed only with a `reconnect` option. */
const RECONNECT = ['resumeSession'];
/** The transfer's stats (every default transfer runs them today: they feed the chunk policy and the lane controller). */
const STATS = ['transferTelemetry'];

/** Each cut on its own, against the main chunk. */
const LAZY: Record<string, readonly string[]> = {
  'lane opening (SenderLanePool, ReceiverLanePool, negotiateLane, laneSignal)': LANE_OPENING,
  'the lane controller (laneController, decideLanes, laneControllerConfig, laneControllerSample)': ['laneController', 'decideLanes', 'laneControllerConfig', 'laneControllerSample'],
  'reconnect (resumeSession)': RECONNECT,
  'NACK repair (RetransmitStore, repairChunks)': ['RetransmitStore', 'repairChunks'],
  'many-file listing (OfferListing)': ['OfferListing'],
  'stats and telemetry (transferTelemetry and what only it imports)': STATS,
  'the stats judges (recommend, detectBottleneck, qualityScore)': ['recommend', 'detectBottleneck', 'qualityScore'],
};

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

async function main(): Promise<void> {
  const now = await mainChunk();
  const [wasm, noble] = [gz(await workerScript(false)), gz(await workerScript(true))];
  console.log(`main chunk now: ${kb(now.length)} min, ${kb(gz(now))} gz; with every string > 10 chars removed: ${kb(gz(withoutStrings(now)))} gz`);
  console.log(`hash worker script: our WebAssembly SHA-256 ${kb(wasm)} gz; @noble/hashes instead ${kb(noble)} gz`);
  console.log('\nout of the main chunk, each alone (gz saved):');
  for (const [what, names] of Object.entries(LAZY)) console.log(`  ${kb(gz(now) - gz(await mainChunk(names))).padStart(8)}  ${what}`);
  console.log('\ncumulative (main chunk gz / strings removed too / + the worker script = a default transfer):');
  const steps: [string, readonly string[]][] = [
    ['now', []],
    ['+ lane opening lazy', LANE_OPENING],
    ['+ reconnect lazy', [...LANE_OPENING, ...RECONNECT]],
    ['+ stats and telemetry gone', [...LANE_OPENING, ...RECONNECT, ...STATS]],
  ];
  for (const [what, names] of steps) {
    const code = await mainChunk(names);
    console.log(`  ${what.padEnd(28)} ${kb(gz(code)).padStart(8)} ${kb(gz(withoutStrings(code))).padStart(8)} ${kb(gz(withoutStrings(code)) + Math.min(wasm, noble)).padStart(8)}`);
  }
  const mangled = await mainChunk([], APP, { mangleProps: privateNamesPattern(root) });
  const assigned = await mainChunk([], APP, { tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } } });
  console.log(`\npackage build options: private-only names mangled saves ${kb(gz(now) - gz(mangled))}; useDefineForClassFields false saves ${kb(gz(now) - gz(assigned))}`);
  const rx = await rxjsCost(now);
  console.log(`rxjs (external here): its ${rx.each.length} exports the chunk imports are ${kb(rx.all)} gz alone; most expensive: ${rx.each.slice(0, 5).map(([n, b]) => `${n} ${kb(b)}`).join(', ')}`);
  const [send, receive] = [await mainChunk([], "export { sendFile } from './src/index.ts';"), await mainChunk([], "export { receiveFile } from './src/index.ts';")];
  console.log(`\na page that only sends: ${kb(gz(send))} gz main chunk; only receives: ${kb(gz(receive))} gz (each + the worker script)`);
}

await main();
