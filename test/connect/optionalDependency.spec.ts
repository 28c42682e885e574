/**
 * node-datachannel is an optional peer dependency: no entry imports it statically, and
 * `tallow-rx/node` reaches it only through connectLoopbackPair's dynamic import.
 */
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Every import of `entry`'s bundle that leaves the bundle, with its kind (`import-statement`, `dynamic-import`, …). */
async function externalImports(entry: string): Promise<{ path: string; kind: string }[]> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map(({ path, kind }) => ({ path, kind })));
}

describe('node-datachannel stays optional', () => {
  it.each(['src/index.ts', 'src/testing/index.ts'])('%s does not import it at all', async (entry) => {
    expect((await externalImports(entry)).filter((i) => i.path.startsWith('node-datachannel'))).toEqual([]);
  });

  it('src/node.ts imports only its polyfill and (for useSctpCongestionControl) its main module, and only dynamically', async () => {
    const found = (await externalImports('src/node.ts')).filter((i) => i.path.startsWith('node-datachannel'));
    expect(found.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'node-datachannel', kind: 'dynamic-import' },
      { path: 'node-datachannel/polyfill', kind: 'dynamic-import' },
    ]);
  });
});
