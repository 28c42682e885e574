/**
 * Hashes the bytes `[0, from)` that both sides hold before a resumed transfer: the whole-file hasher
 * continues from there, and the prefix's own digest is what `accept.prefixSha256` carries (the receiver
 * sends it, the sender compares it with its own).
 */
import { defer, ignoreElements, map, of, switchMap, tap, concat, last, type Observable } from 'rxjs';
import type { Sha256, Sha256Factory } from '../hash/sha256';
import type { Bytes } from '../types';
import { settle } from './settle';

/** A whole-file hasher fed with the prefix, and the prefix's digest (when `from > 0`). */
export interface HeldPrefix {
  readonly hasher: Sha256;
  readonly prefixSha256?: string;
}

/**
 * Reads the prefix once. Where the hasher can fork (`copy`), the prefix digest is taken from a copy;
 * otherwise a second hasher runs over the same bytes. Synchronous when the factory and `read` are.
 * @param from bytes held (0: nothing to read)
 * @param factory creates hashers
 * @param read reads exactly `[0, from)`
 */
export function hashHeldPrefix(from: number, factory: Sha256Factory, read: () => Observable<Bytes>): Observable<HeldPrefix> {
  return defer(() => settle<Sha256>(factory())).pipe(
    switchMap((hasher): Observable<HeldPrefix> => {
      if (from === 0) return of<HeldPrefix>({ hasher });
      const second$: Observable<Sha256 | undefined> = hasher.copy ? of(undefined) : settle<Sha256>(factory());
      return second$.pipe(
        switchMap((second) =>
          concat(
            read().pipe(
              tap((b) => {
                hasher.update(b);
                second?.update(b);
              }),
              ignoreElements(),
            ),
            of(undefined),
          ).pipe(
            last(),
            switchMap(() => settle((second ?? hasher.copy!()).digestHex())),
            map((prefixSha256): HeldPrefix => ({ hasher, prefixSha256 })),
          ),
        ),
      );
    }),
  );
}
