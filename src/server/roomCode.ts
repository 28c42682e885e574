/**
 * Short room codes: what a person reads out or types to join the other side's
 * room. Six characters from an alphabet without look-alikes (no 0/O, 1/I/L),
 * shown as `ABC-DEF`. 31^6 ≈ 8.9 × 10^8 codes; the server's join limits (per
 * address and per code) and the code's time to live keep guessing hopeless.
 *
 * Environment-neutral: no `node:` imports (the page shares it).
 *
 * ```
 * generateRoomCode()          → 'K7QM2X'
 * formatRoomCode('K7QM2X')    → 'K7Q-M2X'
 * normalizeRoomCode('k7q m2x')→ 'K7QM2X'
 * normalizeRoomCode('K7Q-M20')→ undefined  (0 is not in the alphabet)
 * ```
 */

/** The characters a code is made of: digits 2-9 and letters without I, L, O. */
export const ROOM_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** Characters in a code. */
export const ROOM_CODE_LENGTH = 6;

/**
 * A random code, uniformly drawn with rejection sampling (no modulo bias).
 *
 * @param random fills a byte array with random values. Default `crypto.getRandomValues`.
 * @return six characters of {@link ROOM_CODE_ALPHABET}, without the dash
 */
export function generateRoomCode(random: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array = (b) => globalThis.crypto.getRandomValues(b)): string {
  const n = ROOM_CODE_ALPHABET.length;
  // Largest multiple of n below 256: bytes at or above it are drawn again.
  const limit = 256 - (256 % n);
  let code = '';
  while (code.length < ROOM_CODE_LENGTH) {
    for (const byte of random(new Uint8Array(ROOM_CODE_LENGTH * 2))) {
      if (byte < limit && code.length < ROOM_CODE_LENGTH) code += ROOM_CODE_ALPHABET[byte % n];
    }
  }
  return code;
}

/**
 * A code as typed (any case, with dashes or spaces) in its canonical form.
 *
 * @return the six upper-case characters, or `undefined` if it is not a code
 */
export function normalizeRoomCode(input: string | null | undefined): string | undefined {
  if (typeof input !== 'string' || input.length > 32) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== ROOM_CODE_LENGTH) return undefined;
  for (const c of code) if (!ROOM_CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/** `ABCDEF` → `ABC-DEF`, for display. Anything that is not a code is returned unchanged. */
export function formatRoomCode(code: string): string {
  const canonical = normalizeRoomCode(code);
  return canonical ? `${canonical.slice(0, 3)}-${canonical.slice(3)}` : code;
}
