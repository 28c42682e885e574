/**
 * The behaviour every byte source shares, run against each source by its spec:
 * exact bytes for edge sizes, `start`, and reading only what the Demand grants.
 */
import type { Observable, Subscription } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { Demand } from '../../src/flow/Demand';
import { firstDifference, pattern } from '../helpers/bytes';

/** Bytes taken from the underlying input, counted by the harness. */
export interface ReadCounter {
  read: number;
}

/** Options the harness must pass on to the source. */
export interface HarnessConfig {
  readonly demand?: Demand;
  readonly readSize?: number;
  readonly start?: number;
}

/**
 * Builds the source under test over `data`. The underlying input must add to
 * `counter.read` every byte it hands out, and hand out pieces of at most
 * `readSize` bytes (or its default) at a time.
 */
export type MakeSource = (data: Uint8Array, config: HarnessConfig, counter: ReadCounter) => Promise<Observable<Uint8Array>>;

/** A subscription that records what the source emitted. */
export interface Recording {
  readonly pieces: Uint8Array[];
  bytes: number;
  completed: boolean;
  error: unknown;
  readonly subscription: Subscription;
  /** Resolves on completion, rejects on error. */
  readonly done: Promise<void>;
}

export const record = (source: Observable<Uint8Array>): Recording => {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  done.catch(() => undefined);
  const rec = { pieces: [] as Uint8Array[], bytes: 0, completed: false, error: undefined as unknown, done } as Recording & { subscription: Subscription };
  rec.subscription = source.subscribe({
    next: (piece) => {
      rec.pieces.push(piece);
      rec.bytes += piece.length;
    },
    error: (err) => {
      rec.error = err;
      reject(err);
    },
    complete: () => {
      rec.completed = true;
      resolve();
    },
  });
  return rec;
};

/** Concatenates pieces. */
export const concat = (pieces: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Asserts `pieces` hold exactly `expected`, each piece non-empty and at most `readSize` bytes. */
export const expectPieces = (pieces: Uint8Array[], expected: Uint8Array, readSize: number): void => {
  const all = concat(pieces);
  expect(all.length).toBe(expected.length);
  expect(firstDifference(all, expected)).toBe(-1);
  for (const p of pieces) {
    expect(p.length).toBeGreaterThan(0);
    expect(p.length).toBeLessThanOrEqual(readSize);
  }
};

/** Lets pending I/O and timers run, so a source that would over-read has the chance to. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

/** The shared cases. */
export function describeSourceConformance(name: string, make: MakeSource): void {
  describe(`${name}: conformance`, () => {
    const R = 64 * 1024;
    it.each([0, 1, R - 1, R, R + 1, 3 * 1024 * 1024 + 17])('delivers exactly the input for %i bytes', async (size) => {
      const data = pattern(size, 7);
      const rec = record(await make(data, { readSize: R }, { read: 0 }));
      await rec.done;
      expectPieces(rec.pieces, data, R);
    });

    it('uses 256 KiB reads by default', async () => {
      const data = pattern(600 * 1024);
      const rec = record(await make(data, {}, { read: 0 }));
      await rec.done;
      expectPieces(rec.pieces, data, 256 * 1024);
    });

    it.each([0, 1, 999, 1000, 5001, 9999, 10_000, 12_000])('starts at byte %i', async (start) => {
      const data = pattern(10_000, 3);
      const rec = record(await make(data, { readSize: 1000, start }, { read: 0 }));
      await rec.done;
      expectPieces(rec.pieces, data.subarray(Math.min(start, data.length)), 1000);
    });

    it.each([-1, 1.5, Number.NaN])('rejects start %s with InvalidConfigError', async (start) => {
      await expect(make(pattern(10), { start }, { read: 0 })).rejects.toBeInstanceOf(InvalidConfigError);
    });

    it('reads no more than the credit granted plus one readSize, and resumes when credit is granted', async () => {
      const readSize = 1000;
      const data = pattern(20_000, 11);
      const counter: ReadCounter = { read: 0 };
      const demand = new Demand();
      const rec = record(await make(data, { demand, readSize }, counter));

      await settle();
      expect(rec.bytes).toBe(0);
      expect(counter.read).toBeLessThanOrEqual(readSize);

      let credit = 0;
      for (const grant of [2500, 1, 3000, 999]) {
        credit += grant;
        demand.request(grant);
        await vi.waitFor(() => expect(rec.bytes).toBe(credit));
        await settle();
        expect(rec.bytes).toBe(credit);
        expect(counter.read).toBeLessThanOrEqual(credit + readSize);
        expect(rec.completed).toBe(false);
      }

      demand.request(1_000_000);
      await rec.done;
      expectPieces(rec.pieces, data, readSize);
      expect(counter.read).toBe(data.length);
      // Unused credit is given back, not lost.
      expect(demand.available).toBe(credit + 1_000_000 - data.length);
    });

    it('stops reading on unsubscribe', async () => {
      const readSize = 1000;
      const counter: ReadCounter = { read: 0 };
      const demand = new Demand();
      const rec = record(await make(pattern(50_000), { demand, readSize }, counter));
      demand.request(3000);
      await vi.waitFor(() => expect(rec.bytes).toBe(3000));
      rec.subscription.unsubscribe();
      await settle();
      const before = counter.read;
      demand.request(40_000);
      await settle();
      expect(rec.bytes).toBe(3000);
      expect(counter.read).toBe(before);
    });
  });
}
