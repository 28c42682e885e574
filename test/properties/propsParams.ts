/**
 * fast-check settings for the transfer properties, from the environment, so a
 * CI run is bounded and any failure can be replayed:
 *
 * - `FC_RUNS`: cases per property (default {@link DEFAULT_RUNS}).
 * - `FC_SEED` and `FC_PATH`: replay. fast-check prints both on a failure
 *   (`{ seed: 12345, path: "17:3:0", endOnFailure: true }`); pass them back:
 *   `FC_SEED=12345 FC_PATH=17:3:0 npx vitest run test/properties`.
 *   `FC_SEED` alone re-runs the same sequence of cases.
 * - `PROPS_REPORT=1`: print the totals (cases, outcomes, faults, bytes) at the end.
 */
import fc from 'fast-check';
import { DEFAULT_RUNS, envNumber, freshSeed, noteSeed } from '../fuzz/fc';

/** Cases per property unless `FC_RUNS` says otherwise. */
export { DEFAULT_RUNS } from '../fuzz/fc';
/** Cases per property. */
export const propsRuns = (): number => Math.max(1, Math.floor(envNumber('FC_RUNS') ?? DEFAULT_RUNS));

/** The seed of this run: `FC_SEED`, or a fresh one (fixed here so the report can print it). */
const seed = envNumber('FC_SEED') ?? freshSeed();
export const propsSeed = (): number => seed;

/** True when the totals should be printed. */
export const propsReport = (): boolean => process.env.PROPS_REPORT === '1';

/**
 * Parameters for `fc.assert`: the run count, the replay seed and path when set,
 * and an overall limit (fast-check interrupts and fails the property after it)
 * far above a normal run, so a slow-down cannot stall CI unnoticed.
 */
export function propsParams<T>(): fc.Parameters<T> {
  const numRuns = propsRuns();
  const path = process.env.FC_PATH?.trim() || undefined;
  noteSeed(seed);
  return {
    numRuns,
    seed,
    ...(path === undefined ? {} : { path, endOnFailure: true }),
    plugins: [fc.interruptAfterTimeLimit(propsTimeLimit(), { failOnInterrupt: true })],
  } as fc.Parameters<T>;
}

/** The overall limit of one property, ms: 1 s per case (about 15 times the mean), at least 2 minutes. */
export const propsTimeLimit = (): number => Math.max(120_000, propsRuns() * 1000);
