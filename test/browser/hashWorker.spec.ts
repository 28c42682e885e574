/**
 * SHA-256 off the main thread in Chromium: a transfer between two peer connections of one page hashes
 * both ends in the library's hash worker (test/browser/page/hashWorkerTransfers.ts counts the workers the
 * page starts and the bytes posted to them), and every digest equals node:crypto's of the same bytes.
 *
 * Debian's Chromium in the loopback-only namespace (test/harness/chromium.ts); skipped without
 * /usr/bin/chromium unless CI is set.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_EXECUTABLE, spawnChromiumRunner, type SpawnedChromiumRunner } from '../harness/chromium';
import { patternBytes } from '../harness/pump';
import { sha256Hex } from '../helpers/sha256';
import type { HashRunOptions, HashRunResult } from './page/hashWorkerTransfers';

const MiB = 1024 * 1024;
const hasChromium = existsSync(CHROMIUM_EXECUTABLE);
const skip = !hasChromium && !process.env.CI;
if (skip) console.warn(`test/browser/hashWorker skipped: ${CHROMIUM_EXECUTABLE} not found`);

describe.skipIf(skip)('hashing in a worker (Chromium, 127.0.0.1)', () => {
  let runner: SpawnedChromiumRunner | undefined;
  // Replies by request id.
  const waiting = new Map<number, (reply: { ok: boolean; value?: HashRunResult; error?: string }) => void>();
  let nextId = 0;

  const run = (options: HashRunOptions, csp?: string): Promise<HashRunResult> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (r) => (r.ok ? resolve(r.value!) : reject(new Error(r.error))));
      runner!.port.send({ id, options, csp });
    });

  beforeAll(async () => {
    runner = await spawnChromiumRunner(new URL('./fixtures/hashWorkerRunner.ts', import.meta.url), {
      bundles: { hashWorker: 'test/browser/page/hashWorkerTransfers.ts' },
      timeoutMs: 45_000,
    });
    runner.port.onMessage((data) => {
      const reply = data as { id: number; ok: boolean };
      waiting.get(reply.id)?.(reply);
      waiting.delete(reply.id);
    });
  }, 60_000);

  afterAll(async () => {
    await runner?.close();
  }, 30_000);

  it('both ends hash in one worker: the sender hands each byte over once for both hashes, the receiver twice; the digests are right', async () => {
    const size = 8 * MiB + 12_345;
    const want = sha256Hex(patternBytes(size, 7));
    const r = await run({ size, seed: 7, hashOn: 'worker', timeoutMs: 40_000 });
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('completed');
    expect(r.workers.workers).toBe(1);
    expect(r.workers.names).toEqual(['tallow-rx hash']);
    // The sender: every byte once, in CRC batches that also update its SHA-256 hasher (none resent on loopback).
    expect(r.workers.hashedCrcBytes).toBe(size);
    // The receiver: its whole-file hasher gets every byte (`update`); its chunks' CRC-32 go apart, before checking,
    // each chunk at most once (a batch that finds the worker behind, 8 buffers out, is computed on the page).
    expect(r.workers.updateBytes).toBe(size);
    expect(r.workers.crcBytes - r.workers.hashedCrcBytes).toBeGreaterThan(0);
    expect(r.workers.crcBytes - r.workers.hashedCrcBytes).toBeLessThanOrEqual(size);
    expect(r.workers.digests).toBe(2);
    expect([r.sourceSha256, r.senderSha256, r.receiverSha256, r.receivedSha256]).toEqual([want, want, want, want]);
  }, 60_000);

  it('a later transfer reuses the worker; hashing on the main thread (createHash) posts no SHA-256 to it, CRC-32 still goes', async () => {
    const size = 3 * MiB;
    const want = sha256Hex(patternBytes(size, 8));
    const again = await run({ size, seed: 8, hashOn: 'worker', timeoutMs: 40_000 });
    expect(again.workers).toMatchObject({ workers: 0, updateBytes: size, hashedCrcBytes: size, digests: 2 });
    expect([again.senderSha256, again.receiverSha256]).toEqual([want, want]);
    const main = await run({ size, seed: 8, hashOn: 'main', timeoutMs: 40_000 });
    expect(main.workers).toMatchObject({ workers: 0, updates: 0, digests: 0, hashedCrcBytes: 0 });
    expect(main.workers.crcBytes).toBeGreaterThan(0);
    expect([main.senderSha256, main.receiverSha256, main.receivedSha256]).toEqual([want, want, want]);
  }, 60_000);

  it.each([
    // Chromium constructs the worker, then refuses its script (an error event; the document sees the violation).
    ['Blob workers nor WebAssembly', "default-src 'self'; script-src 'self'; worker-src 'self'", { workers: 1, refused: 0, cspViolations: ['worker-src blob'] }],
    // The worker starts but may not compile WebAssembly (reported inside the worker): it says unavailable.
    ['WebAssembly (Blob workers allowed)', "default-src 'self'; script-src 'self'; worker-src blob:", { workers: 1, refused: 0, cspViolations: [] }],
  ])('a page whose CSP forbids %s hashes on the main thread in pure JS: the transfer completes, digests right', async (_, policy, tried) => {
    const size = 2 * MiB + 1;
    const want = sha256Hex(patternBytes(size, 9));
    const r = await run({ size, seed: 9, hashOn: 'worker', timeoutMs: 40_000 }, policy);
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('completed');
    // The library tried once (the page's one worker); the policy refused it or its WebAssembly; no hashing went to it.
    expect(r.workers).toMatchObject({ ...tried, updates: 0, digests: 0, crcs: 0 });
    expect([r.sourceSha256, r.senderSha256, r.receiverSha256, r.receivedSha256]).toEqual([want, want, want, want]);
  }, 60_000);
});
