/**
 * A tiny library entry for testing the on-the-fly browser bundle: it pulls in rxjs from
 * node_modules, so a passing spec proves bare imports resolve and the bundle runs in Chromium.
 */
import { from, lastValueFrom, map, reduce } from 'rxjs';

/** Identifies this bundle in the page. */
export const TINY_LIBRARY = 'tiny-library';

/** Sums the doubled values through an RxJS pipeline. */
export function sumDoubled(values: number[]): Promise<number> {
  return lastValueFrom(
    from(values).pipe(
      map((v) => v * 2),
      reduce((sum, v) => sum + v, 0),
    ),
  );
}
