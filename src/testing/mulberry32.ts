/**
 * A tiny seeded pseudo-random generator, so virtual links are reproducible.
 */

/**
 * Returns a deterministic PRNG (mulberry32) that yields floats in `[0, 1)`.
 *
 * The same seed always gives the same sequence, on every platform. It is not
 * cryptographic; it exists so that fault injection in `createVirtualLink` can be
 * replayed exactly.
 *
 * ```
 * mulberry32(1):  0.627…  0.002…  0.527…  …   (always the same)
 * ```
 *
 * ## Example
 * ```ts
 * import { mulberry32 } from 'tallow-rx/testing';
 * const random = mulberry32(42);
 * const roll = random(); // 0 <= roll < 1
 * ```
 *
 * @param seed Any number; it is reduced to an unsigned 32-bit integer.
 * @return A function returning the next float in `[0, 1)` on each call.
 */
export function mulberry32(seed: number): () => number {
  // The generator state: one unsigned 32-bit word.
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
