import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Real-WebRTC and browser suites start native threads; keep them from starving each other on 2 cores.
    maxWorkers: 2,
  },
});
