/**
 * Shared fast-check settings for the fuzz suites, so every property runs the
 * same way and a failure can be replayed.
 *
 * Environment:
 * - `FC_RUNS`: runs per property (default {@link DEFAULT_RUNS}). Raise it for a
 *   long local or nightly run: `FC_RUNS=20000 npx vitest run test/fuzz`.
 * - `FC_SEED` and `FC_PATH`: replay a failure. fast-check prints both when a
 *   property fails (`{ seed: 12345, path: "17:3:0", endOnFailure: true }`):
 *   `FC_SEED=12345 FC_PATH=17:3:0 npx vitest run test/fuzz/<file>`.
 *   Without `FC_PATH`, `FC_SEED` alone re-runs the same sequence of inputs.
 * - `FC_CASE_BUDGET_MS`: the per-case time budget (default
 *   {@link DEFAULT_CASE_BUDGET_MS}). It is a hang and blow-up detector, far above
 *   what any case needs, not a performance assertion.
 */
import fc, { type Parameters } from 'fast-check';
import { expect } from 'vitest';

/** Runs per property unless `FC_RUNS` says otherwise. */
export const DEFAULT_RUNS = 200;
/** Time one case may take before it counts as a hang (ms). */
export const DEFAULT_CASE_BUDGET_MS = 500;

/** A number from the environment, or undefined when unset; throws on garbage. */
export const envNumber = (name: string): number | undefined => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
};

/** Runs per property. */
export const runs = (): number => Math.max(1, Math.floor(envNumber('FC_RUNS') ?? DEFAULT_RUNS));

/** The per-case budget in ms. */
export const caseBudget = (): number => envNumber('FC_CASE_BUDGET_MS') ?? DEFAULT_CASE_BUDGET_MS;

/** A seed for a run without `FC_SEED`, chosen here so the test watchdog can print it if a case hangs. */
export const freshSeed = (): number => (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;

/** Hands `seed` to the test watchdog (test/harness/watchdog.ts), which prints it if the case hangs. */
export const noteSeed = (seed: number): void => (globalThis as { __tallowWatchdogNote?: (text: string) => void }).__tallowWatchdogNote?.(`FC_SEED=${seed}`);

/**
 * Parameters for `fc.assert`: the run count, the replay seed and path when set,
 * and a whole-property time limit (`runs × case budget`, at least 30 s) after
 * which the property is interrupted and reported as failed, so a slow-down that
 * stays under the per-case budget still cannot stall the suite unnoticed.
 * `overrides` wins (for example a lower `numRuns` for an expensive property:
 * it is still raised by `FC_RUNS`).
 */
export function fcParams<T>(overrides: Partial<Parameters<T>> = {}): Parameters<T> {
  const numRuns = envNumber('FC_RUNS') !== undefined ? runs() : (overrides.numRuns ?? runs());
  const seed = envNumber('FC_SEED') ?? freshSeed();
  noteSeed(seed);
  const path = process.env.FC_PATH?.trim() || undefined;
  const limit = Math.max(30_000, numRuns * caseBudget());
  return {
    ...overrides,
    numRuns,
    seed,
    ...(path === undefined ? {} : { path, endOnFailure: true }),
    plugins: [fc.interruptAfterTimeLimit(limit, { failOnInterrupt: true })],
  } as Parameters<T>;
}

/** The result of calling a function on hostile input. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Calls `fn`, captures its value or its exception, and fails the case if it took
 * longer than the case budget (a hang or a super-linear blow-up). A truly
 * infinite synchronous loop cannot be interrupted from the same thread; it
 * would stall the worker until vitest's test timeout reports it.
 */
export function attempt<T>(fn: () => T, budgetMs = caseBudget()): Outcome<T> {
  const t0 = performance.now();
  let out: Outcome<T>;
  try {
    out = { ok: true, value: fn() };
  } catch (error) {
    out = { ok: false, error };
  }
  const took = performance.now() - t0;
  if (took > budgetMs) throw new Error(`case took ${took.toFixed(0)} ms, over the ${budgetMs} ms budget`);
  return out;
}

/** Asserts that `error` is an instance of one of `types` (a typed TallowError), with a readable message otherwise. */
export function expectTyped(error: unknown, ...types: (abstract new (...args: any[]) => Error)[]): void {
  const ok = types.some((t) => error instanceof t);
  if (!ok) {
    const e = error as Error;
    expect.fail(`expected ${types.map((t) => t.name).join(' | ')}, got ${e?.constructor?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 200)}`);
  }
}
