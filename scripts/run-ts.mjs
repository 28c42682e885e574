#!/usr/bin/env node
// Runs a TypeScript entry (examples/demo.ts, …) with plain Node: esbuild bundles
// our own sources into one ESM file (dependencies stay external) and we import
// it. Unlike a TypeScript loader this adds no resident transpiler to the process,
// so the demo's memory figures measure the transfer, not the tooling.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = process.argv[2];
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args…]');
  process.exit(2);
}
const outdir = resolve('.tmp/run');
mkdirSync(outdir, { recursive: true });
const outfile = join(outdir, basename(entry).replace(/\.ts$/, '.mjs'));
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, sourcemap: 'inline', logLevel: 'warning' });
process.argv.splice(2, 1);
await import(pathToFileURL(outfile).href);
