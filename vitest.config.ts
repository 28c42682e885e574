import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // The docs' examples import the package by name; their tests (test/docs) run them against the source.
  resolve: {
    alias: [
      { find: /^tallow-rx\/testing$/, replacement: src('testing/index.ts') },
      { find: /^tallow-rx\/node$/, replacement: src('node.ts') },
      { find: /^tallow-rx\/protocol$/, replacement: src('protocol.ts') },
      { find: /^tallow-rx\/stats$/, replacement: src('stats.ts') },
      { find: /^tallow-rx$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.spec.ts'],
    // Turns a blocked event loop (which no vitest timeout can end) into a failure that names the test.
    setupFiles: ['test/harness/watchdog.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Real-WebRTC and browser suites start native threads; keep them from starving each other on 2 cores.
    maxWorkers: 2,
  },
});
