import { defineConfig } from 'tsup';
import { privateNamesPattern } from './scripts/privateNames.mjs';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      node: 'src/node.ts',
      testing: 'src/testing/index.ts',
      protocol: 'src/protocol.ts',
      stats: 'src/stats.ts',
      // Node only: the rendezvous server (docs/deploy.md). `ws` is a dependency (only Node entries import it);
      // ioredis is an optional peer dependency, loaded when a Redis URL is given.
      server: 'src/server/index.ts',
    },
    format: ['esm', 'cjs'],
    // Code shared by the entries (the error classes above all) goes into shared chunks in both formats, so
    // each class exists once per format and `instanceof` holds across entries. tsup splits ESM by default
    // but not CJS without this (test/package/errorIdentity.spec.ts).
    splitting: true,
    // tsup's d.ts build sets `baseUrl`, which TypeScript 6 deprecates.
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    sourcemap: true,
    // Everything but the command line, which the second build writes.
    clean: ['**/*', '!cli.js', '!cli.js.map'],
    target: 'es2022',
    external: ['rxjs', 'node-datachannel', 'ioredis', 'ws'],
    treeshake: true,
    // Members declared `private` and used under no other name are shortened (scripts/privateNames.mjs says which
    // are safe): 0.6 KB of the browser bundle. The declarations (.d.ts) keep their names.
    esbuildOptions(options) {
      options.mangleProps = privateNamesPattern(import.meta.dirname);
    },
  },
  {
    // The `tallow-rx` command line (package.json `bin`): one ESM file for Node. qrcode is bundled into it
    // (a CommonJS package, hence `require` from createRequire); ws, rxjs, node-datachannel and ioredis are not.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    clean: false,
    // One file: no chunk shared with (or cleaned by) the library build.
    splitting: false,
    noExternal: ['qrcode'],
    external: ['rxjs', 'node-datachannel', 'ioredis', 'ws'],
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __tallowCreateRequire } from 'node:module';\nconst require = __tallowCreateRequire(import.meta.url);" },
  },
]);
