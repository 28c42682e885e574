/**
 * Transfer profiles: the seed's configuration matrix, with numbers that real
 * browsers accept (chunks within 256 KiB, `high + frame` far below the 16 MiB
 * send-queue ceiling). `auto` starts from the measured conditions and adapts.
 */
import { InvalidConfigError } from '../errors';
import { checkOptions, intIn, invalid, limit, oneOf, shown, type RuleTable } from './checkOptions';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE, SEND_QUEUE_LIMIT } from '../types';
import type { Reliability } from '../protocol/control';
import { MAX_CHUNK_WINDOW } from './OfferListing';

export type ProfileName = 'lan' | 'wifi' | 'internet' | 'poor' | 'mobile';

/** Every tunable of a transfer. */
export interface TransferTuning {
  /** Data channels (1-16). */
  readonly channels: number;
  /**
   * Peer connections to spread the channels over: 1 to `channels` (each lane needs a channel of its own). More
   * than the connections given uses those given (the stats' `lanes` shows how many carry data); with `auto`, an
   * explicit `lanes` also means no lanes opened in band.
   */
  readonly lanes: number;
  /** Chunk payload bounds, integers from 1 to 2^30 with `minChunk <= maxChunk`; the adaptive policy picks within them. */
  readonly minChunk: number;
  readonly maxChunk: number;
  /** Per-channel backpressure watermarks, bytes: `0 <= low < high`, and `high` plus one message within the 16 MiB send queue. */
  readonly high: number;
  readonly low: number;
  /** Bytes the sender may read beyond what the receiver acknowledged: an integer, at least `2 × maxChunk`. */
  readonly window: number;
  readonly reliability: Reliability;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The built-in profiles. */
export const PROFILES: Readonly<Record<ProfileName, TransferTuning>> = {
  lan: { channels: 2, lanes: 2, minChunk: 64 * KiB, maxChunk: CHROME_MAX_MESSAGE_SIZE, high: 1 * MiB, low: 256 * KiB, window: 16 * MiB, reliability: 'reliable' },
  wifi: { channels: 3, lanes: 1, minChunk: 64 * KiB, maxChunk: CHROME_MAX_MESSAGE_SIZE, high: 1 * MiB, low: 256 * KiB, window: 16 * MiB, reliability: 'reliable' },
  internet: { channels: 2, lanes: 1, minChunk: 32 * KiB, maxChunk: 128 * KiB, high: 1 * MiB, low: 256 * KiB, window: 8 * MiB, reliability: 'reliable' },
  poor: { channels: 2, lanes: 1, minChunk: MIN_CHUNK_SIZE, maxChunk: 64 * KiB, high: 512 * KiB, low: 128 * KiB, window: 8 * MiB, reliability: 'reliable' },
  mobile: { channels: 1, lanes: 1, minChunk: MIN_CHUNK_SIZE, maxChunk: 64 * KiB, high: 512 * KiB, low: 128 * KiB, window: 8 * MiB, reliability: 'reliable' },
};

/** The profile `auto` starts with before any measurement. */
export const AUTO_START: ProfileName = 'lan';

/** Largest chunk payload the offer may announce (`chunk.max`, docs/protocol.md). */
const MAX_CHUNK = 2 ** 30;

/** What each field must be on its own (a field the profile gave keeps its rule); `lanes` is bound by `channels`. */
const tuningRules = (t: TransferTuning, maxMessageSize: number): RuleTable => ({
  channels: { ...intIn(1, 16), says: 'an integer from 1 to 16' },
  lanes: { ...intIn(1, t.channels), says: `an integer from 1 to ${t.channels}` },
  minChunk: intIn(1, MAX_CHUNK),
  maxChunk: intIn(1, MAX_CHUNK),
  high: {
    test: (v) => typeof v === 'number' && v > 0 && v + maxMessageSize <= SEND_QUEUE_LIMIT,
    says: `a number > 0 and at most ${SEND_QUEUE_LIMIT - maxMessageSize} (the 16 MiB send queue less one message)`,
  },
  low: limit,
  window: intIn(1),
  reliability: oneOf('reliable', 'unreliable'),
});

/**
 * Checks a tuning for values that would break a real stack: each field on its own, then the bounds that tie two
 * together (`minChunk <= maxChunk`, `low < high`, `window >= 2 × maxChunk`). Throws `InvalidConfigError` that
 * starts with `where`, names the option and shows the value as given, `details` `{ field, value }`. Of two fields
 * that disagree, the one in `given` is blamed and the other named with its value ("from the profile" when the
 * profile gave it), also in `details`.
 */
export function validateTuning(t: TransferTuning, maxMessageSize = CHROME_MAX_MESSAGE_SIZE, where = 'sendFiles', given: Partial<TransferTuning> = t): void {
  checkOptions(where, t, tuningRules(t, maxMessageSize));
  // `field` must be `says` the `other` field (times `factor`).
  const tie = (field: keyof TransferTuning, ok: boolean, says: string, other: keyof TransferTuning, factor = '') => {
    const from = given[other] !== undefined ? '' : other === 'maxChunk' && t.reliability === 'unreliable' ? ", unreliable's cap" : ' from the profile';
    if (!ok) throw new InvalidConfigError(`${where}: ${field} must be ${says} ${other} (${factor}${t[other]}${from}), got ${shown(t[field])}`, { field, value: t[field], [other]: t[other] });
  };
  const chunksOk = t.minChunk <= t.maxChunk;
  if (given.maxChunk !== undefined) tie('maxChunk', chunksOk, '>=', 'minChunk');
  else tie('minChunk', chunksOk, '<=', 'maxChunk');
  if (given.low !== undefined) tie('low', t.low < t.high, '<', 'high');
  else tie('high', t.low < t.high, '>', 'low');
  if (given.window !== undefined || given.maxChunk === undefined) tie('window', t.window >= 2 * t.maxChunk, '>= 2 ×', 'maxChunk', '2 × ');
  else tie('maxChunk', t.window >= 2 * t.maxChunk, 'at most half of', 'window');
  // The receiver refuses an offer with more chunks in flight than it can reorder (window / chunk.min + 1): say
  // so here, not as a rejection once the offer is out (an outside check: minChunk 256 with a 16 MiB window).
  const least = Math.ceil(t.window / (MAX_CHUNK_WINDOW - 1));
  const says = `at least window / ${MAX_CHUNK_WINDOW - 1} (${least}: the receiver reorders at most ${MAX_CHUNK_WINDOW} chunks in flight), with`;
  if (given.window !== undefined && given.minChunk === undefined && given.maxChunk === undefined) tie('window', t.minChunk >= least, `at most ${MAX_CHUNK_WINDOW - 1} ×`, 'minChunk', `${MAX_CHUNK_WINDOW - 1} × `);
  // A maxChunk of the app's brought minChunk down with it: maxChunk is the option to blame.
  else tie(given.minChunk === undefined && given.maxChunk !== undefined ? 'maxChunk' : 'minChunk', t.minChunk >= least, says, 'window');
}

/** Resolves a profile name (or `auto`) plus overrides into a validated tuning; errors start with `where` (`sendFile: …`). */
export function resolveTuning(profile: ProfileName | 'auto' = 'auto', overrides: Partial<TransferTuning> = {}, where = 'sendFiles'): TransferTuning {
  const known = oneOf('auto', ...Object.keys(PROFILES));
  if (!known.test(profile)) throw invalid(where, 'profile', known.says, profile);
  const base = PROFILES[profile === 'auto' ? AUTO_START : profile];
  const t = { ...base, ...overrides };
  // A `maxChunk` of the app's below the profile's `minChunk` brings `minChunk` down with it ("chunks at most this").
  if (overrides.minChunk === undefined && overrides.maxChunk !== undefined && overrides.maxChunk < t.minChunk) Object.assign(t, { minChunk: overrides.maxChunk });
  // A profile's lane count is an upper bound: fewer channels than lanes means fewer lanes.
  if (overrides.lanes === undefined) Object.assign(t, { lanes: Math.min(t.lanes, Math.max(1, t.channels)) });
  // Unreliable channels lose a whole message per lost packet: keep messages small. A `minChunk` of the app's is
  // kept (it was replaced, so 2^30 passed unchecked): one above the capped `maxChunk` is refused below.
  if (t.reliability === 'unreliable' && overrides.maxChunk === undefined) {
    Object.assign(t, { maxChunk: Math.min(t.maxChunk, 64 * KiB), minChunk: overrides.minChunk ?? Math.min(t.minChunk, MIN_CHUNK_SIZE) });
  }
  validateTuning(t, CHROME_MAX_MESSAGE_SIZE, where, overrides);
  return t;
}
