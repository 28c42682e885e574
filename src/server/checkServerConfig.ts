/**
 * The checks of the rendezvous server's options (`createRendezvous`, `startRendezvousServer`, their `turn`), made
 * before anything listens, in the same form as the transfer's (src/transfer/checkOptions.ts): an
 * `InvalidConfigError` naming the option and showing the value as given, `details` `{ field, value }`. Before
 * 6 Dec 2026 a `messagesPerSecond: 'fast'` turned the message limit off and a negative `codeTtlMs` handed out
 * codes already expired.
 */
import { bool, checkOptions, fn, intIn, invalid, object, positiveMs, text, type Rule, type RuleTable } from '../transfer/checkOptions';
import type { RendezvousConfig } from './createRendezvous';
import type { RendezvousServerConfig } from './startRendezvousServer';

/** A finite number > 0 (a rate). */
const rate: Rule = { test: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, says: 'a finite number > 0' };
/** `{ limit, windowMs }`: attempts per window. */
const rateLimit: Rule = {
  test: (v) => typeof v === 'object' && v !== null && intIn(1).test((v as { limit: unknown }).limit) && positiveMs.test((v as { windowMs: unknown }).windowMs),
  says: '{ limit: an integer >= 1, windowMs: a finite number of ms > 0 }',
};
/** An origin a page may open the socket from: `https://host[:port]`, nothing after it. */
export const isOrigin = (v: unknown): boolean => typeof v === 'string' && /^https?:\/\/[^/\s?#]+$/.test(v);
/** A Redis URL: `redis://…` or `rediss://…`. */
export const isRedisUrl = (v: unknown): boolean => typeof v === 'string' && /^rediss?:\/\/./.test(v);
/** A TURN server's URL: `turn:…` or `turns:…`. */
export const isTurnUrl = (v: unknown): boolean => typeof v === 'string' && /^turns?:\S+$/.test(v);

const RENDEZVOUS_RULES: RuleTable = {
  now: fn,
  codeTtlMs: positiveMs,
  leaseMs: positiveMs,
  roomTtlMs: positiveMs,
  joinsPerAddress: rateLimit,
  joinsPerCode: rateLimit,
  messagesPerSecond: rate,
  messageBurst: intIn(1),
  iceServers: fn,
  relayCandidates: bool,
  randomId: fn,
  randomCode: fn,
  store: object,
};

const SERVER_RULES: RuleTable = {
  host: text,
  port: intIn(0, 65535),
  redisUrl: { test: isRedisUrl, says: 'a redis:// or rediss:// URL' },
  turn: object,
  allowedOrigins: { test: (v) => v === 'same' || v === '*' || (Array.isArray(v) && v.every(isOrigin)), says: `'same', '*' or an array of origins like "https://send.example.org"` },
  trustProxy: bool,
  handler: fn,
  renewEveryMs: positiveMs,
  heartbeatMs: positiveMs,
  maxQueuedBytes: intIn(1),
  firstRequestTimeoutMs: positiveMs,
};

const TURN_RULES: RuleTable = {
  urls: { test: (v) => Array.isArray(v) && v.length > 0 && v.every(isTurnUrl), says: 'a non-empty array of turn: or turns: URLs' },
  secret: { test: (v) => typeof v === 'string' && v.length > 0, says: 'a non-empty string' },
  ttlSeconds: intIn(1),
};

/** `createRendezvous`'s options, checked. */
export function checkRendezvousConfig(config: RendezvousConfig | undefined): RendezvousConfig {
  return checkOptions('createRendezvous', config, RENDEZVOUS_RULES, 'config', []);
}

/** The fields of a server's `config` that are the rendezvous's own (what `startRendezvousServer` hands `createRendezvous`). */
export const rendezvousPart = (config: RendezvousConfig): RendezvousConfig => Object.fromEntries(Object.entries(config).filter(([key]) => key in RENDEZVOUS_RULES));

/** `startRendezvousServer`'s options (its `turn` too, which must have `urls` and `secret`), checked. */
export function checkServerConfig(config: RendezvousServerConfig | undefined): RendezvousServerConfig {
  const c = checkOptions('startRendezvousServer', config, { ...RENDEZVOUS_RULES, ...SERVER_RULES }, 'config', []);
  if (c.turn) {
    checkOptions('startRendezvousServer', c.turn, TURN_RULES, 'turn', []);
    for (const field of ['urls', 'secret'] as const) if (c.turn[field] === undefined) throw invalid('startRendezvousServer', `turn.${field}`, TURN_RULES[field].says, undefined);
  }
  return c;
}
