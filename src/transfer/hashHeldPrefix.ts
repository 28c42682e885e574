/**
 * Hashes the bytes `[0, from)` that both sides hold before a resumed transfer: the whole-file hasher
 * continues from there, and the prefix's own digest is what `accept.prefixSha256` carries (the receiver
 * sends it, the sender compares it with its own).
 */
import { defer, type Observable } from 'rxjs';
import type { Sha256, Sha256Factory } from '../hash/sha256';
import type { Bytes } from '../types';

/** A whole-file hasher fed with the prefix, and the prefix's digest (when `from > 0`). */
export interface HeldPrefix {
  readonly hasher: Sha256;
  readonly prefixSha256?: string;
}

/**
 * Reads the prefix once. Where the hasher can fork (`copy`), the prefix digest is taken from a copy;
 * otherwise a second hasher runs over the same bytes.
 * @param from bytes held (0: nothing to read)
 * @param factory creates hashers
 * @param read reads exactly `[0, from)`
 */
export function hashHeldPrefix(from: number, factory: Sha256Factory, read: () => Observable<Bytes>): Observable<HeldPrefix> {
  return defer(async (): Promise<HeldPrefix> => {
    const hasher = await factory();
    if (from === 0) return { hasher };
    const second = hasher.copy ? undefined : await factory();
    await new Promise<void>((resolve, reject) =>
      read().subscribe({
        next: (b) => {
          hasher.update(b);
          second?.update(b);
        },
        error: reject,
        complete: resolve,
      }),
    );
    return { hasher, prefixSha256: (second ?? hasher.copy!()).digestHex() };
  });
}
