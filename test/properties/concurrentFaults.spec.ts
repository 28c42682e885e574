/**
 * The fault property with concurrency, in virtual time. Each case runs 1-3 transfers in each direction
 * at once over one virtual link (random sizes, channel counts, reliability) with random faults on the
 * data channels (loss on unreliable channels, reordering, duplication, jitter, bit flips, a bandwidth
 * limit), all under `TestScheduler.run()`: no wall clock, so a loaded machine cannot change an outcome.
 *
 * Property: every transfer that a receiver reports completed has exactly the sent bytes, with the
 * source's SHA-256 on both sides; a sender reports success only when its receiver did, with the same
 * digest; and every transfer ends (completed, or a typed error on both sides) within the virtual
 * deadline. Same-name transfers into one directoryTarget need real files (promises), so they are
 * checked in test/transfer/directoryTarget.e2e.spec.ts and in the property at the end of this file.
 *
 * `FC_RUNS`, `FC_SEED`, `FC_PATH`: see propsParams.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, TallowError, type TransferEvent } from '../../src/index';
import type { Reliability } from '../../src/protocol/control';
import { directoryTarget } from '../../src/node';
import { createVirtualLink, type VirtualDataChannel } from '../../src/testing';
import { memoryTarget, type MemoryTarget } from './memoryTarget';
import { propsParams } from './propsParams';
import { deterministicBytes } from '../helpers/bytes';
import { completedOf } from '../helpers/events';
import { sha256Hex as sha256 } from '../helpers/sha256';

const KiB = 1024;
type Completed = Extract<TransferEvent, { type: 'completed' }>;
const dataOnly = (ch: VirtualDataChannel) => ch.label !== 'tallow-control';

const transferSpec = fc.record({
  size: fc.oneof(fc.constantFrom(0, 1, 64 * KiB - 1, 64 * KiB + 1), fc.integer({ min: 0, max: 768 * KiB })),
  channels: fc.integer({ min: 1, max: 3 }),
  reliability: fc.constantFrom<Reliability>('reliable', 'unreliable'),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});
const caseSpec = fc.record({
  aToB: fc.array(transferSpec, { minLength: 1, maxLength: 3 }),
  bToA: fc.array(transferSpec, { minLength: 0, maxLength: 3 }),
  link: fc.record({
    seed: fc.integer({ min: 1, max: 1 << 30 }),
    delayMs: fc.integer({ min: 0, max: 30 }),
    jitterMs: fc.constantFrom(0, 0, 3),
    lossRate: fc.constantFrom(0, 0, 0.02, 0.1),
    reorder: fc.constantFrom(0, 0, 0.05, 0.2),
    duplicate: fc.constantFrom(0, 0, 0.05),
    corrupt: fc.constantFrom(0, 0, 0.01, 0.05),
    bandwidth: fc.constantFrom(Infinity, Infinity, 2_000_000, 20_000_000),
  }),
});

/** What one side of one transfer did by the end of the flush. */
interface Outcome {
  completed?: Completed;
  error?: unknown;
}
const watch = (o: Observable<TransferEvent>): Outcome => {
  const out: Outcome = {};
  o.subscribe({ next: (e) => e.type === 'completed' && (out.completed = e), error: (e) => (out.error = e) });
  return out;
};

describe('concurrent transfers in both directions with faults, in virtual time', () => {
  it('every completed transfer is exact on both sides; every other one ends with a typed error on both sides', () => {
    fc.assert(
      fc.property(caseSpec, (c) => {
        const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
        const runs: { sent: Uint8Array; s: Outcome; r: Outcome; target: MemoryTarget }[] = [];
        ts.run(() => {
          const link = createVirtualLink({ ...c.link, faultFilter: dataOnly, scheduler: ts });
          const start = (from: typeof link.a, to: typeof link.b, t: (typeof c.aToB)[number], id: number) => {
            const sent = deterministicBytes(t.size, t.seed);
            const target = memoryTarget();
            const r = watch(receiveFile(to, { target, scheduler: ts, idleTimeoutMs: 10_000, maxCorruptRetries: 8 }));
            const s = watch(sendFile(from, sent, { scheduler: ts, channels: t.channels, reliability: t.reliability, transferId: id, idleTimeoutMs: 10_000 }));
            runs.push({ sent, s, r, target });
          };
          c.aToB.forEach((t, i) => start(link.a, link.b, t, i + 1));
          c.bToA.forEach((t, i) => start(link.b, link.a, t, 100 + i));
        });
        for (const { sent, s, r, target } of runs) {
          const expected = sha256(sent);
          if (r.completed) {
            expect(r.completed.sha256).toBe(expected);
            expect(sha256(target.bytes())).toBe(expected);
          }
          if (s.completed) {
            expect(r.completed, 'a sender completed without its receiver').toBeDefined();
            expect(s.completed.sha256).toBe(expected);
          }
          // Everything ended within the virtual deadline, and failures are typed on both sides.
          expect(Boolean(s.completed) || s.error !== undefined).toBe(true);
          expect(Boolean(r.completed) || r.error !== undefined).toBe(true);
          if (s.error !== undefined) expect(s.error).toBeInstanceOf(TallowError);
          if (r.error !== undefined) expect(r.error).toBeInstanceOf(TallowError);
        }
      }),
      { ...propsParams(), numRuns: Math.min(propsParams().numRuns ?? 60, 60) },
    );
  });
});

describe('same-name transfers into one directoryTarget, with faults (real files, real time)', () => {
  it('concurrent transfers whose names clean up to the same string never share a part file: each reported digest is the bytes at its path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          names: fc.array(fc.constantFrom('report.bin', 'a/report.bin', './report.bin', 'x/../report.bin', 'REPORT.bin'), { minLength: 2, maxLength: 4 }),
          sizes: fc.array(fc.integer({ min: 0, max: 300 * KiB }), { minLength: 4, maxLength: 4 }),
          link: fc.record({ seed: fc.integer({ min: 1, max: 1 << 30 }), reorder: fc.constantFrom(0, 0.1), duplicate: fc.constantFrom(0, 0.05), corrupt: fc.constantFrom(0, 0.02) }),
        }),
        async ({ names, sizes, link: faults }) => {
          const dir = await mkdtemp(join(tmpdir(), 'tallow-samename-'));
          const link = createVirtualLink({ delayMs: 1, ...faults, faultFilter: dataOnly });
          try {
            const target = directoryTarget(dir);
            const runs = names.map((name, i) => {
              const bytes = deterministicBytes(sizes[i], i + 1);
              return Promise.all([
                lastValueFrom(receiveFile(link.b, { target, maxCorruptRetries: 8 }).pipe(toArray())).then((e) => e, (err) => err as Error),
                lastValueFrom(sendFile(link.a, bytes, { name, channels: 2 }).pipe(toArray())).then((e) => e, (err) => err as Error),
              ]).then(([r, s]) => ({ r, s, sha: sha256(bytes) }));
            });
            const paths = new Set<string>();
            for (const { r, s, sha } of await Promise.all(runs)) {
              const done = Array.isArray(r) ? completedOf(r) : undefined;
              if (!done) {
                expect(r).toBeInstanceOf(TallowError);
                continue;
              }
              const path = done.result as string;
              expect(paths.has(path), `two transfers reported ${path}`).toBe(false);
              paths.add(path);
              expect(done.sha256).toBe(sha);
              expect(sha256(await readFile(path))).toBe(sha);
              if (Array.isArray(s)) expect(completedOf(s)?.sha256).toBe(sha);
            }
          } finally {
            link.close();
            await rm(dir, { recursive: true, force: true });
          }
        },
      ),
      { ...propsParams(), numRuns: 15 },
    );
  }, 120_000);
});
