/**
 * A short authentication string (SAS) from the DTLS fingerprints of a connection's two session
 * descriptions, for two people to compare out of band ("does your page say 048 213 too?").
 *
 * Each side passes its own local and remote SDPs. The two fingerprint sets are put in a fixed
 * order (sorted), so both sides hash the same input and get the same string. A party in the
 * middle that terminates DTLS with each side separately must present its own certificate to
 * each, so the two sides see different fingerprint pairs and, with overwhelming probability,
 * different strings.
 *
 * ```
 * A: local fp(A), remote fp(B)  ─┐
 *                                ├─ sort → SHA-256("tallow-rx sas v1\n" + …) → '048 213'
 * B: local fp(B), remote fp(A)  ─┘
 * ```
 *
 * Uses WebCrypto (`crypto.subtle`), so it runs in browsers (secure contexts only: plain `http://`
 * on a LAN address has no `crypto.subtle`) and in Node 20 (`globalThis.crypto`).
 */
import { TallowError, type ErrorDetails } from '../errors';
import { checkArgument, configObject } from '../configObject';

/** Why an SDP gave no usable fingerprint. */
export type FingerprintErrorCode = 'ERR_FINGERPRINT_MISSING' | 'ERR_FINGERPRINT_MALFORMED' | 'ERR_FINGERPRINT_UNSUPPORTED';

/** An SDP had no `a=fingerprint` line, a malformed one, or WebCrypto is missing. `details.which` is `local` or `remote`. */
export class FingerprintError extends TallowError {
  override readonly name = 'FingerprintError';
  constructor(code: FingerprintErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}

/** Options of {@link shortAuthString}. */
export interface ShortAuthStringConfig {
  /** Decimal digits in the string, 4 to 12. Default 6 (one in a million that a middle party's pair matches by chance). */
  readonly digits?: number;
  /** Put a space every this many digits (0: none). Default 3: `'048 213'`. */
  readonly groupDigits?: number;
}

/** A canonical fingerprint: lowercase algorithm, uppercase colon-separated hex. */
export interface Fingerprint {
  readonly algorithm: string;
  readonly hex: string;
}

/** Bytes of the digest each hash function named in RFC 8122 produces. */
const DIGEST_BYTES: Readonly<Record<string, number>> = { 'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64, md5: 16, md2: 16 };
/** Domain separation: a SAS of another protocol over the same fingerprints gives another string. */
const CONTEXT = 'tallow-rx sas v1';

const FINGERPRINT_LINE = /^a=fingerprint:(\S+)\s+(\S+)\s*$/i;
const HEX_PAIRS = /^[0-9A-F]{2}(:[0-9A-F]{2})*$/;

/**
 * Every distinct `a=fingerprint` of one SDP (session or media level), canonical and sorted.
 *
 * @param sdp a session description's text
 * @param which `local` or `remote`, for the error
 * @return at least one fingerprint; throws {@link FingerprintError} for none or a malformed one
 */
export function parseFingerprints(sdp: string, which: 'local' | 'remote' = 'remote'): Fingerprint[] {
  const found = new Map<string, Fingerprint>();
  for (const line of String(sdp).split(/\r?\n/)) {
    if (!/^a=fingerprint:/i.test(line)) continue;
    const m = FINGERPRINT_LINE.exec(line.trim());
    const algorithm = m?.[1].toLowerCase() ?? '';
    const hex = m?.[2].toUpperCase() ?? '';
    const bytes = DIGEST_BYTES[algorithm];
    // Unknown hash names, non-hex and a digest of the wrong length are all malformed.
    if (!m || bytes === undefined || !HEX_PAIRS.test(hex) || (hex.length + 1) / 3 !== bytes) {
      throw new FingerprintError('ERR_FINGERPRINT_MALFORMED', `the ${which} SDP has a malformed fingerprint line: ${line.trim().slice(0, 160)}`, { which, line: line.trim().slice(0, 160) });
    }
    found.set(`${algorithm} ${hex}`, { algorithm, hex });
  }
  if (!found.size) throw new FingerprintError('ERR_FINGERPRINT_MISSING', `the ${which} SDP has no a=fingerprint line (no DTLS, or not an SDP)`, { which });
  return [...found.values()].sort((a, b) => (a.algorithm + a.hex < b.algorithm + b.hex ? -1 : 1));
}

/** One side's fingerprints (over all of its SDPs, e.g. one per lane) as one canonical line. */
const sideLine = (sdps: string | readonly string[], which: 'local' | 'remote'): string => {
  const list = typeof sdps === 'string' ? [sdps] : sdps;
  if (!list.length) throw new FingerprintError('ERR_FINGERPRINT_MISSING', `no ${which} SDP given`, { which });
  const all = new Set(list.flatMap((sdp) => parseFingerprints(sdp, which).map((f) => `${f.algorithm} ${f.hex}`)));
  return [...all].sort().join(',');
};

/**
 * The short authentication string of a connection, the same on both ends.
 *
 * ## Example
 * ```ts
 * import { shortAuthString } from 'tallow-rx';
 * const sas = await shortAuthString(pc.localDescription!.sdp, pc.remoteDescription!.sdp);
 * show(`Check that the other device shows ${sas}`); // '048 213'
 * ```
 * @param local this side's SDP(s) (`pc.localDescription.sdp`; several lanes: one per connection, any order)
 * @param remote the other side's SDP(s) as this side received them
 * @param config see {@link ShortAuthStringConfig}
 * @return `digits` decimal digits, grouped; rejects with {@link FingerprintError} for missing or malformed
 * fingerprints or no WebCrypto, and with `InvalidConfigError` for a bad `digits` or `groupDigits`
 */
export async function shortAuthString(local: string | readonly string[], remote: string | readonly string[], config: ShortAuthStringConfig = {}): Promise<string> {
  config = configObject('shortAuthString', config);
  const { digits = 6, groupDigits = 3 } = config;
  checkArgument('shortAuthString', 'digits', digits, Number.isInteger(digits) && digits >= 4 && digits <= 12, 'an integer from 4 to 12');
  checkArgument('shortAuthString', 'groupDigits', groupDigits, Number.isInteger(groupDigits) && groupDigits >= 0, 'an integer >= 0');
  const sides = [sideLine(local, 'local'), sideLine(remote, 'remote')].sort();
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new FingerprintError('ERR_FINGERPRINT_UNSUPPORTED', 'crypto.subtle is missing (a browser page that is not a secure context?)', {});
  const digest = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(`${CONTEXT}\n${sides[0]}\n${sides[1]}`)));
  // The first 6 bytes as an integer (48 bits, exact in a double), reduced to `digits` digits.
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + digest[i];
  const text = String(n % 10 ** digits).padStart(digits, '0');
  return groupDigits ? (text.match(new RegExp(`.{1,${groupDigits}}`, 'g')) ?? [text]).join(' ') : text;
}
