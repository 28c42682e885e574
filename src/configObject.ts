/**
 * An argument that is not what a function takes: the `InvalidConfigError` naming it and showing the value as
 * given (docs/errors.md), and the check every function that takes a config object makes first. A module of its
 * own, apart from the option tables of src/transfer/checkOptions.ts, so that one operator bundled alone
 * (`reorder`) does not take those tables with it.
 */
import { InvalidConfigError } from './errors';

/** A plain object (not `null`, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as a message shows it: strings JSON-quoted, numbers as JS prints them (NaN, Infinity), plain objects as JSON, instances by their class (`a ReadableStream`). */
export function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'string' && typeof value !== 'object') return String(value);
  // An instance of a class (an ArrayBuffer, a ReadableStream, a Node stream) by its class: its JSON says nothing.
  const made = isObject(value) && Object.getPrototypeOf(value)?.constructor?.name;
  if (made && made !== 'Object') return `${/^[aeiou]/i.test(made) ? 'an' : 'a'} ${made}`;
  try {
    return JSON.stringify(value).slice(0, 100);
  } catch {
    return String(value);
  }
}

/** `details.value`: the value itself when it is plain data, else as {@link shown} (details stay serialisable). */
export const plain = (value: unknown): unknown => (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value) ? value : shown(value));

/** The error for `field` of `where` (`sendFile`, `directoryTarget`, …) breaking `says`. */
export const invalid = (where: string, field: string, says: string, value: unknown): InvalidConfigError =>
  new InvalidConfigError(`${where}: ${field} must be ${says}, got ${shown(value)}`, { field, value: plain(value) });

/**
 * An options argument (`config` of `where`, by default) as given: `undefined` is `{}`; anything but an object
 * (`null`, a string, a number, an array) is the `InvalidConfigError` naming it (`reorder(null)` threw a
 * `TypeError` reading a field of it).
 */
export function configObject<T extends object>(where: string, config: T | null | undefined, field = 'config'): T {
  if (config === undefined) return {} as T;
  if (!isObject(config)) throw invalid(where, field, 'an object', config);
  return config;
}

/** `value`, an argument `field` of `where`, when `ok`; else the `InvalidConfigError` saying it must be `says`. */
export function checkArgument<T>(where: string, field: string, value: T, ok: boolean, says: string): T {
  if (!ok) throw invalid(where, field, says, value);
  return value;
}

/** Whether `v` can be a data channel (it has `addEventListener`). */
export const isChannelLike = (v: unknown): boolean => typeof (v as { addEventListener?: unknown } | null)?.addEventListener === 'function';
