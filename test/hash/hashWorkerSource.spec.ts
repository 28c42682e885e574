/**
 * src/hash/hashWorkerSource.ts is generated (scripts/build-hash-worker.mjs bundles the worker); this fails
 * while the committed string is stale, i.e. something the worker imports changed without a rebuild.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

describe('hashWorkerSource.ts', () => {
  it('is what scripts/build-hash-worker.mjs builds now (run it after changing the worker)', async () => {
    const script = '../../scripts/build-hash-worker.mjs';
    const { hashWorkerModule } = (await import(script)) as { hashWorkerModule: () => Promise<string> };
    const committed = await readFile(resolve(root, 'src/hash/hashWorkerSource.ts'), 'utf8');
    expect(committed === (await hashWorkerModule()), 'src/hash/hashWorkerSource.ts is stale: node scripts/build-hash-worker.mjs').toBe(true);
  });
});
