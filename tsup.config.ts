import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    testing: 'src/testing/index.ts',
    protocol: 'src/protocol.ts',
    stats: 'src/stats.ts',
  },
  format: ['esm', 'cjs'],
  // Code shared by the entries (the error classes above all) goes into shared chunks in both formats, so
  // each class exists once per format and `instanceof` holds across entries. tsup splits ESM by default
  // but not CJS without this (test/package/errorIdentity.spec.ts).
  splitting: true,
  // tsup's d.ts build sets `baseUrl`, which TypeScript 6 deprecates.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: ['rxjs', 'node-datachannel'],
  treeshake: true,
});
