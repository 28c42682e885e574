/**
 * How the bundle figures are measured: an app's entry bundled by esbuild, minified, ESM, for browsers, with code
 * splitting (every lazy chunk is its own file) and rxjs external. bundleSize.spec.ts and bundleWhatIf.ts both
 * build with these, so a what-if figure compares with the spec's.
 */
import type { BuildOptions } from 'esbuild';

export const APP_BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  splitting: true,
  external: ['rxjs'],
} satisfies BuildOptions;
