/**
 * fast-check arbitraries for control messages: every valid message type, hostile
 * field values, and an independent check of what `parseControl` promises about
 * the messages it accepts.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ControlMessage } from '../../src/protocol';
import { CONTROL_VERSION, MAX_CHANNELS, MAX_NACK_ENTRIES, MAX_NAME_LENGTH, MAX_PARALLEL } from '../../src/protocol/control';
import { u32, U32_MAX } from './frameArbitraries';

const MAX_ID = 1023;

/** Non-negative safe integers, biased towards the edges. */
const size = (): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(0, 1, U32_MAX, U32_MAX + 1, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const text = (max: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength: Math.min(max, 80) });
const hex64 = (): fc.Arbitrary<string> => fc.stringMatching(/^[0-9a-f]{64}$/);
/** A finite double that survives JSON unchanged (-0 becomes 0 on the wire). */
const finite = (): fc.Arbitrary<number> => fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d));

/** A valid offer. */
export const offer = (): fc.Arbitrary<ControlMessage> =>
  fc
    .record({
      id: u32(),
      files: u32(),
      folders: u32(),
      bytes: size(),
      parallel: fc.integer({ min: 1, max: MAX_PARALLEL }),
      channels: fc.integer({ min: 1, max: MAX_CHANNELS }),
      lanesPick: fc.nat(),
      idPick: fc.nat(),
      reliability: fc.constantFrom('reliable' as const, 'unreliable' as const),
      min: fc.integer({ min: 1, max: 1 << 30 }),
      maxPick: fc.nat(),
      windowPick: fc.nat(),
    })
    .map(({ lanesPick, idPick, maxPick, windowPick, min, ...r }) => ({
      t: 'offer' as const,
      v: CONTROL_VERSION,
      ...r,
      lanes: 1 + (lanesPick % r.channels),
      idBase: idPick % (MAX_ID + 2 - r.channels),
      chunk: { min, max: min + (maxPick % ((1 << 30) - min + 1)) },
      digest: 'sha-256' as const,
      window: 2 * (1 << 30) + (windowPick % 1024),
    }));

/** Any valid control message. */
export const controlMessage = (): fc.Arbitrary<ControlMessage> =>
  fc.oneof(
    offer(),
    fc
      .record({
        t: fc.constant('entry' as const),
        id: u32(),
        i: u32(),
        name: fc.oneof(text(MAX_NAME_LENGTH), fc.constantFrom('../../etc/passwd', 'C:\\x', 'CON', 'a/b', '')),
        size: size(),
        type: text(255),
        lastModified: fc.option(size(), { nil: undefined }),
      })
      .map(({ lastModified, ...r }) => ({ ...r, ...(lastModified === undefined ? {} : { lastModified }) })),
    fc.record({ t: fc.constant('folder' as const), id: u32(), name: text(MAX_NAME_LENGTH) }),
    fc.record({ t: fc.constant('skip' as const), id: u32(), i: u32() }),
    fc.record({ t: fc.constant('resume' as const), id: u32(), i: u32(), from: fc.constant(0) }),
    fc.record({ t: fc.constant('resume' as const), id: u32(), i: u32(), from: size().filter((n) => n > 0), prefixSha256: hex64() }),
    fc.record({ t: fc.constant('accept' as const), id: u32() }),
    fc.record({ t: fc.constant('restart' as const), id: u32(), i: u32() }),
    fc.record({ t: fc.constant('reject' as const), id: u32(), reason: text(1024) }),
    fc.record({ t: fc.constant('ack' as const), id: u32(), i: u32(), bytes: size(), queued: size() }),
    fc.record({ t: fc.constant('nack' as const), id: u32(), i: u32(), chunks: fc.array(u32(), { maxLength: 40 }) }),
    fc.record({
      t: fc.constant('done' as const),
      id: u32(),
      i: u32(),
      chunks: fc.integer({ min: 0, max: U32_MAX + 1 }),
      bytes: size(),
      sha256: hex64(),
    }),
    fc.record({ t: fc.constant('complete' as const), id: u32(), i: u32(), sha256: hex64() }),
    fc.record({ t: fc.constant('cancel' as const), id: u32(), reason: text(1024) }),
    fc.record({ t: fc.constant('error' as const), id: u32(), code: text(64), message: text(1024) }),
    fc.record({ t: fc.constant('error' as const), id: u32(), code: text(64), message: text(1024), cause: text(64) }),
    fc.record({ t: fc.constantFrom('ping' as const, 'pong' as const), n: u32(), ts: finite() }),
  );

/** Deeply nested JSON text, `depth` levels of arrays or objects. */
export const nested = (depth: number, shape: 'array' | 'object'): string =>
  shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '0' + '}'.repeat(depth);

/** Values a hostile peer may put in a field: wrong types, out of range, huge, deep. */
export const hostileValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(-1, -0.5, 0.5, 1.5, 2 ** 53, 2 ** 64, 1e308, -1e308, U32_MAX + 1, 1 << 30, (1 << 30) + 1, 1024, 1025, 17, 0, '', '0', '1', null, true, false, [], {}),
    fc.jsonValue({ maxDepth: 3 }),
    fc.integer({ min: 0, max: 70_000 }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: 1, max: 200 }).map((d) => JSON.parse(nested(d, 'array'))),
    fc.stringMatching(/^[0-9a-fA-F]{60,70}$/),
  );

const isU32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
const isSize = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
const isHex64 = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/**
 * Checks what `parseControl` promises about an accepted message, independently
 * of its code: a known type, every field of the right type and in range.
 */
export function expectValidControl(m: ControlMessage): void {
  const o = m as unknown as Record<string, unknown>;
  const ok = (cond: boolean, what: string) => expect(cond, `${m.t}: ${what} in ${JSON.stringify(m).slice(0, 300)}`).toBe(true);
  switch (m.t) {
    case 'offer': {
      ok(m.v === CONTROL_VERSION, 'v');
      ok(isU32(m.id), 'id');
      ok(isU32(m.files) && isU32(m.folders) && isSize(m.bytes), 'counts');
      ok(Number.isInteger(m.parallel) && m.parallel >= 1 && m.parallel <= MAX_PARALLEL, 'parallel');
      ok(Number.isInteger(m.channels) && m.channels >= 1 && m.channels <= MAX_CHANNELS, 'channels');
      ok(Number.isInteger(m.lanes) && m.lanes >= 1 && m.lanes <= m.channels, 'lanes');
      ok(Number.isInteger(m.idBase) && m.idBase >= 0 && m.idBase + m.channels - 1 <= MAX_ID, 'idBase');
      ok(m.reliability === 'reliable' || m.reliability === 'unreliable', 'reliability');
      ok(Number.isInteger(m.chunk.min) && m.chunk.min >= 1 && m.chunk.max >= m.chunk.min && m.chunk.max <= 1 << 30, 'chunk');
      ok(m.digest === 'sha-256', 'digest');
      ok(Number.isInteger(m.window) && m.window >= 2 * m.chunk.max && isSize(m.window), 'window');
      return;
    }
    case 'entry':
      return ok(
        isU32(m.id) && isU32(m.i) && isText(m.name, MAX_NAME_LENGTH) && isSize(m.size) && isText(m.type, 255) && (m.lastModified === undefined || isSize(m.lastModified)),
        'fields',
      );
    case 'folder':
      return ok(isU32(m.id) && isText(m.name, MAX_NAME_LENGTH), 'fields');
    case 'resume':
      return ok(isU32(m.id) && isU32(m.i) && isSize(m.from) && (m.from === 0 ? m.prefixSha256 === undefined : isHex64(m.prefixSha256)), 'fields');
    case 'accept':
      return ok(isU32(m.id), 'fields');
    case 'skip':
    case 'restart':
      return ok(isU32(m.id) && isU32(m.i), 'fields');
    case 'reject':
    case 'cancel':
      return ok(isU32(m.id) && isText(m.reason, 1024), 'fields');
    case 'ack':
      return ok(isU32(m.id) && isU32(m.i) && isSize(m.bytes) && isSize(m.queued), 'fields');
    case 'nack':
      return ok(isU32(m.id) && isU32(m.i) && Array.isArray(m.chunks) && m.chunks.length <= MAX_NACK_ENTRIES && m.chunks.every(isU32), 'fields');
    case 'done':
      return ok(isU32(m.id) && isU32(m.i) && isSize(m.chunks) && m.chunks <= U32_MAX + 1 && isSize(m.bytes) && isHex64(m.sha256), 'fields');
    case 'complete':
      return ok(isU32(m.id) && isU32(m.i) && isHex64(m.sha256), 'fields');
    case 'error':
      return ok(isU32(m.id) && isText(m.code, 64) && isText(m.message, 1024) && (m.cause === undefined || isText(m.cause, 64)), 'fields');
    case 'ping':
    case 'pong':
      return ok(isU32(m.n) && typeof m.ts === 'number' && Number.isFinite(m.ts), 'fields');
    default:
      return ok(false, `unknown type ${String(o.t)}`);
  }
}
