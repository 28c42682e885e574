/**
 * Checks what the public transfer functions take (their options, connections and inputs) at subscription,
 * before anything is created or sent. An option is checked against a rule from a table; a bad one is an
 * `InvalidConfigError` whose message names the option and shows the value as given (`"10"` is not `10`),
 * and whose `details` are `{ field, value }`. A connection already closed is a `ChannelClosedError`.
 */
import { isObservable } from 'rxjs';
import { ChannelClosedError, InvalidConfigError } from '../errors';
import type { PeerConnectionLike } from '../types';
import { configObject, invalid, isObject, plain } from '../configObject';

export { configObject, invalid, plain, shown } from '../configObject';

/** What a value must be: a test, and what it says when it fails ("a finite number > 0"). */
export interface Rule {
  readonly test: (value: unknown) => boolean;
  readonly says: string;
}

/** A rule per option; an option left out (`undefined`) takes its default and is not checked. */
export type RuleTable = Readonly<Record<string, Rule>>;

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/**
 * The longest delay a timer takes, ms (2^31 − 1, about 24.8 days): a longer one fires at once, with Node's
 * TimeoutOverflowWarning (an outside check: `acceptTimeoutMs: 2 ** 31` failed the sender in 242 ms).
 */
export const MAX_TIMER_MS = 2_147_483_647;
/** A duration or interval: > 0 and at most {@link MAX_TIMER_MS}, ms. */
export const positiveMs: Rule = { test: (v) => isNumber(v) && v > 0 && v <= MAX_TIMER_MS, says: `a number of ms > 0 and <= ${MAX_TIMER_MS}` };
/** A delay that may be none: >= 0 and at most {@link MAX_TIMER_MS}, ms. */
export const nonNegativeMs: Rule = { test: (v) => isNumber(v) && v >= 0 && v <= MAX_TIMER_MS, says: `a number of ms >= 0 and <= ${MAX_TIMER_MS}` };
/** A limit or a count: a number >= 0 (`Infinity` for none). */
export const limit: Rule = { test: (v) => isNumber(v) && v >= 0, says: 'a number >= 0' };
/** An amount that must be more than nothing: a number > 0 (`Infinity` for no limit). */
export const positive: Rule = { test: (v) => isNumber(v) && v > 0, says: 'a number > 0' };
/** A callback, a flag, an Observable, a string. */
export const fn: Rule = { test: (v) => typeof v === 'function', says: 'a function' };
export const bool: Rule = { test: (v) => typeof v === 'boolean', says: 'true or false' };
export const observable: Rule = { test: (v) => isObservable(v), says: 'an Observable' };
export const text: Rule = { test: (v) => typeof v === 'string', says: 'a string' };
/** An options object of its own (`laneController`). */
export const object: Rule = { test: isObject, says: 'an object' };
export const schedulerLike: Rule = {
  test: (v) => isObject(v) && typeof v.now === 'function' && typeof v.schedule === 'function',
  says: 'a SchedulerLike (with now() and schedule())',
};

/** An object with the method `method`, described as `what` ("a ReceiveTarget"). */
export const objectWith = (method: string, what: string): Rule => ({ test: (v) => isObject(v) && typeof v[method] === 'function', says: `${what} (an object with ${method}())` });

/** An integer in `[min, max]`. */
export const intIn = (min: number, max = Number.MAX_SAFE_INTEGER): Rule => ({
  test: (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
  says: max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
});

/** The options both sides take (timing, `reconnect`, the in-band lanes' callbacks, the hash, the scheduler). */
export const SHARED_RULES: RuleTable = {
  idleTimeoutMs: positiveMs,
  progressIntervalMs: positiveMs,
  sampleIntervalMs: positiveMs,
  laneConnectTimeoutMs: positiveMs,
  interruptionGraceMs: nonNegativeMs,
  reconnect: fn,
  createConnection: fn,
  acceptLaneCandidate: fn,
  rewriteLaneSignal: fn,
  createHash: fn,
  scheduler: schedulerLike,
};

/** One of a few strings. */
export const oneOf = (...values: readonly string[]): Rule => ({
  test: (v) => values.includes(v as string),
  says: `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`,
});


/**
 * `options` checked against `table`: `undefined` is `{}`; anything but an object (a string, `null`, an array)
 * is an `InvalidConfigError` naming the argument (`field`), and so is a field that breaks its rule. With
 * `known` (the names the argument takes besides the table's, often none), a key that is neither is refused too
 * ({@link refuseUnknown}; a nested argument such as `turn` is named in that message).
 */
export function checkOptions<T extends object>(where: string, options: T | undefined, table: RuleTable, field = 'options', known?: readonly string[]): T {
  options = configObject(where, options, field);
  for (const key of Object.keys(table)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && !table[key].test(value)) throw invalid(where, key, table[key].says, value);
  }
  if (known) refuseUnknown(field === 'options' || field === 'config' ? where : `${where}: ${field}`, options, table, known);
  return options;
}

/**
 * Refuses a key of `options` that none of `known` (rule tables, lists of names) has: a misspelt option
 * (`maxchunk`, `chunkSize`) would otherwise be ignored without a word. The `InvalidConfigError` names the key,
 * suggests a known one it matches but for case, a plural `s` or an `Ms` unit (or begins), and has `details`
 * `{ field, value }`.
 */
function refuseUnknown(where: string, options: object, ...known: readonly (RuleTable | readonly string[])[]): void {
  const names = known.flatMap((k) => (Array.isArray(k) ? k : Object.keys(k)));
  const bare = (name: string) => name.toLowerCase().replace(/ms$|s$/, '');
  for (const [key, value] of Object.entries(options)) {
    if (names.includes(key)) continue;
    const near = names.find((name) => bare(name) === bare(key) || bare(name).startsWith(bare(key)));
    const hint = near ? ` (did you mean ${near}?)` : '';
    throw new InvalidConfigError(`${where}: unknown option ${JSON.stringify(key)}${hint}`, { field: key, value: plain(value) });
  }
}

/**
 * Checks that each lane is a peer connection (an object with `createDataChannel` and `addEventListener`), else
 * `InvalidConfigError` (`sendFile(null, f)` threw a `TypeError` once the session used it).
 */
export function checkConnections(where: string, lanes: readonly unknown[]): readonly PeerConnectionLike[] {
  if (!lanes.length) throw new InvalidConfigError(`${where} needs at least one peer connection, got []`, { field: 'connection', value: '[]' });
  lanes.forEach((pc, lane) => {
    if (!isObject(pc) || typeof pc.createDataChannel !== 'function' || typeof pc.addEventListener !== 'function') {
      throw invalid(where, laneField(lanes, lane), 'a peer connection (with createDataChannel and addEventListener)', pc);
    }
  });
  return lanes as readonly PeerConnectionLike[];
}

/**
 * Checks that no lane is closed already (`connectionState` or `signalingState` is `closed`), else
 * `ChannelClosedError`: creating a channel on one throws the stack's own error (node-datachannel's plain
 * `Error`, a browser's `InvalidStateError`), and a receiver would wait for an offer that never comes.
 */
export function checkOpen(where: string, lanes: readonly PeerConnectionLike[]): readonly PeerConnectionLike[] {
  lanes.forEach((pc, lane) => {
    const { connectionState, signalingState } = pc as { connectionState?: unknown; signalingState?: unknown };
    const state = connectionState === 'closed' ? 'connectionState' : signalingState === 'closed' ? 'signalingState' : undefined;
    if (state) throw new ChannelClosedError(`${where}: ${laneField(lanes, lane)} is closed (${state} "closed")`, { lane, connectionState, signalingState });
  });
  return lanes;
}

/** How a message names lane `lane`: `connection`, or `connection 2` among several. */
const laneField = (lanes: readonly unknown[], lane: number): string => (lanes.length > 1 ? `connection ${lane}` : 'connection');
