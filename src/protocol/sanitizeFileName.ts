/**
 * Makes a file name from a peer's manifest safe to create inside a target
 * directory: the result is a single path component that cannot escape it.
 */
import { ProtocolError } from '../errors';

/** Windows device names, reserved with any extension. */
const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\..*)?$/i;
/**
 * Characters not allowed in a name on common file systems, control characters (C0 and C1), the Unicode
 * direction controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), which make a name display in
 * another order than it has (`"\u202Etxt.exe"` shows as `exe.txt`), the line and paragraph separators
 * (U+2028, U+2029), and the invisible zero-width space and byte-order mark (U+200B, U+FEFF). Joiners
 * (U+200C, U+200D) stay: emoji and some scripts need them.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f<>:"|?*\\/\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** Longest name kept, in UTF-8 bytes (most file systems allow 255). */
export const MAX_SAFE_NAME_BYTES = 200;

/**
 * Returns a safe base name, normalised to Unicode NFC. Directory parts are stripped (`../../etc/passwd` →
 * `passwd`), forbidden characters (and direction controls) become `_`, leading and trailing dots and
 * spaces are removed, device names get a `_` prefix, and the name is cut
 * to {@link MAX_SAFE_NAME_BYTES} bytes keeping the extension. Throws
 * `ProtocolError` (`ERR_UNSAFE_NAME`) when nothing usable is left or the name
 * contains NUL, which no legitimate sender produces.
 */
export function sanitizeFileName(name: string): string {
  if (typeof name !== 'string') throw new ProtocolError('file name must be a string', {}, 'ERR_UNSAFE_NAME');
  if (name.includes('\u0000')) throw new ProtocolError('file name contains NUL', {}, 'ERR_UNSAFE_NAME');
  const base = name.split(/[\\/]/).pop() ?? '';
  let safe = base.normalize('NFC').replace(FORBIDDEN, '_').replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (DEVICE.test(safe)) safe = `_${safe}`;
  const enc = new TextEncoder();
  if (enc.encode(safe).length > MAX_SAFE_NAME_BYTES) {
    const dot = safe.lastIndexOf('.');
    const ext = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : '';
    // Keep whole code points of the stem while they fit (one pass), then trim what a cut exposed.
    const budget = MAX_SAFE_NAME_BYTES - enc.encode(ext).length;
    let stem = '';
    let used = 0;
    for (const cp of safe.slice(0, safe.length - ext.length)) {
      const n = enc.encode(cp).length;
      if (used + n > budget) break;
      stem += cp;
      used += n;
    }
    safe = (stem + ext).replace(/[.\s]+$/, '');
  }
  if (!safe || safe === '.' || safe === '..') throw new ProtocolError(`file name ${JSON.stringify(name.slice(0, 64))} has no usable part`, {}, 'ERR_UNSAFE_NAME');
  return safe;
}
