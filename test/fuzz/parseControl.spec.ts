/**
 * Fuzzing `parseControl` (src/protocol/control.ts), the only way a control
 * message from the peer gets in: arbitrary strings, values and JSON, valid
 * messages with hostile fields, damaged text, messages near the 64 KiB limit and
 * deeply nested JSON. It returns a message that keeps every documented bound, or
 * throws `ProtocolError`; never anything else, within the per-case budget.
 * Replay a failure with FC_SEED / FC_PATH (see ./fc.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/index';
import { encodeControl, MAX_CONTROL_MESSAGE, parseControl, type ControlMessage } from '../../src/protocol';
import { controlMessage, expectValidControl, hostileValue, nested } from './controlArbitraries';
import { attempt, expectTyped, fcParams } from './fc';

const TYPES = ['offer', 'entry', 'folder', 'skip', 'resume', 'accept', 'restart', 'reject', 'ack', 'nack', 'done', 'complete', 'cancel', 'error', 'ping', 'pong'];
const FIELDS = ['t', 'v', 'id', 'i', 'files', 'folders', 'parallel', 'name', 'size', 'type', 'lastModified', 'channels', 'lanes', 'idBase', 'reliability', 'chunk', 'digest', 'from', 'reason', 'bytes', 'queued', 'chunks', 'first', 'sha256', 'code', 'message', 'n', 'ts', '__proto__', 'constructor'];

/** The property: a valid message or a ProtocolError. */
const parsesOrRejects = (raw: unknown): ControlMessage | undefined => {
  const out = attempt(() => parseControl(raw));
  if (!out.ok) {
    expectTyped(out.error, ProtocolError);
    return undefined;
  }
  expectValidControl(out.value);
  return out.value;
};

/** JSON text of an object whose own keys are exactly those given (including `__proto__`). */
const objectText = (entries: [string, unknown][]): string => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;

/** Text edits: cut, insert, delete or replace one character. */
const textEdit: fc.Arbitrary<Edit> = fc.oneof<fc.Arbitrary<Edit>[]>(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), c: fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), c: fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '0', '-', 'e', ' ', '\u0000', '\ud800') }),
);
type Edit = { kind: 'cut' | 'delete'; at: number } | { kind: 'insert' | 'replace'; at: number; c: string };
const applyEdit = (s: string, e: Edit): string => {
  const at = s.length ? e.at % (s.length + 1) : 0;
  switch (e.kind) {
    case 'cut':
      return s.slice(0, at);
    case 'insert':
      return s.slice(0, at) + (e as { c: string }).c + s.slice(at);
    case 'delete':
      return s.slice(0, at) + s.slice(at + 1);
    default:
      return s.slice(0, at) + (e as { c: string }).c + s.slice(at + 1);
  }
};

describe('parseControl under hostile input', () => {
  it('arbitrary strings and JSON texts: a valid message or ProtocolError', () => {
    const raw = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.json({ maxDepth: 4 }));
    fc.assert(fc.property(raw, (s) => void parsesOrRejects(s)), fcParams());
  });

  it('arbitrary non-string values: ProtocolError', () => {
    const values = fc.oneof(
      fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }),
      fc.constantFrom(new Uint8Array([123, 125]), new ArrayBuffer(2), Symbol('s'), () => '{}', new String('{"t":"ping","n":1,"ts":1}')),
    );
    fc.assert(
      fc.property(values, (v) => {
        fc.pre(typeof v !== 'string');
        const out = attempt(() => parseControl(v));
        expect(out.ok).toBe(false);
        if (!out.ok) expectTyped(out.error, ProtocolError);
      }),
      fcParams(),
    );
  });

  it('objects of a known type with hostile fields (wrong types, out of range, huge, nested, __proto__): a valid message or ProtocolError', () => {
    const entries = fc.tuple(
      fc.constantFrom(...TYPES, 'OFFER', '', 'toString', '__proto__'),
      fc.array(fc.tuple(fc.constantFrom(...FIELDS), hostileValue()), { maxLength: 12 }),
    );
    fc.assert(fc.property(entries, ([t, fields]) => void parsesOrRejects(objectText([['t', t], ...fields]))), fcParams());
  });

  it('valid messages with one field replaced, removed or added: a valid message or ProtocolError', () => {
    const edit = fc.tuple(controlMessage(), fc.nat(), fc.constantFrom('replace', 'remove', 'add'), fc.constantFrom(...FIELDS), hostileValue());
    fc.assert(
      fc.property(edit, ([msg, pick, how, extra, value]) => {
        const entries = Object.entries(msg) as [string, unknown][];
        const i = pick % entries.length;
        if (how === 'replace') entries[i] = [entries[i][0], value];
        else if (how === 'remove') entries.splice(i, 1);
        else entries.push([extra, value]);
        const parsed = parsesOrRejects(objectText(entries));
        // An added field the message does not know is ignored; a known one may only change the result within bounds.
        if (how === 'add' && !FIELDS.includes(extra)) expect(parsed).toEqual(msg);
      }),
      fcParams(),
    );
  });

  it('valid messages with damaged text (cut, characters inserted, deleted or replaced): a valid message or ProtocolError', () => {
    fc.assert(
      fc.property(controlMessage(), fc.array(textEdit, { minLength: 1, maxLength: 3 }), (msg, edits) => {
        void parsesOrRejects(edits.reduce(applyEdit, encodeControl(msg)));
      }),
      fcParams(),
    );
  });

  it('messages around the 64 KiB limit: accepted up to MAX_CONTROL_MESSAGE characters, ProtocolError above', () => {
    fc.assert(
      fc.property(controlMessage(), fc.integer({ min: -64, max: 64 }), fc.constantFrom(' ', '\n', '\t'), (msg, delta, ws) => {
        const text = encodeControl(msg);
        const target = MAX_CONTROL_MESSAGE + delta;
        fc.pre(text.length <= target);
        const padded = text + ws.repeat(target - text.length);
        const out = attempt(() => parseControl(padded));
        if (padded.length <= MAX_CONTROL_MESSAGE) {
          expect(out.ok).toBe(true);
          if (out.ok) expect(out.value).toEqual(msg);
        } else {
          expect(out.ok).toBe(false);
          if (!out.ok) {
            expectTyped(out.error, ProtocolError);
            expect((out.error as ProtocolError).details.length).toBe(padded.length);
          }
        }
      }),
      fcParams(),
    );
  });

  it('long string fields near the limit (names, reasons, codes of up to 64 K characters, astral and lone surrogates): a valid message or ProtocolError', () => {
    const long = fc.tuple(fc.integer({ min: 0, max: 66_000 }), fc.constantFrom('a', '😀', '\ud800', 'é', '"', '\\', '\u0000')).map(([n, c]) => c.repeat(Math.ceil(n / c.length)));
    fc.assert(
      fc.property(controlMessage(), fc.constantFrom('name', 'type', 'reason', 'code', 'message', 'sha256'), long, (msg, field, value) => {
        void parsesOrRejects(objectText([...Object.entries(msg), [field, value]]));
      }),
      fcParams(),
    );
  });

  it('deep JSON nesting anywhere but the type field (up to the 64 KiB limit): ProtocolError', () => {
    const deep = fc.record({
      // Depth 1 would be `[]`, a valid (empty) nack list: start at 2.
      depth: fc.oneof(fc.integer({ min: 2, max: 100 }), fc.integer({ min: 100, max: 13_000 })),
      shape: fc.constantFrom('array' as const, 'object' as const),
      where: fc.constantFrom('top', 'chunk', 'chunks', 'id', 'name', 'unknown-field'),
      t: fc.constantFrom(...TYPES),
    });
    fc.assert(
      fc.property(deep, ({ depth, shape, where, t }) => {
        const value = nested(depth, shape);
        const raw = where === 'top' ? value : `{"t":${JSON.stringify(t)},"v":1,"id":1,${JSON.stringify(where)}:${value}}`;
        fc.pre(raw.length <= MAX_CONTROL_MESSAGE);
        const parsed = parsesOrRejects(raw);
        // Only a field the type does not have may carry anything (it is ignored); every known field rejects a
        // nested value. (`accept` has no field but `id`; every other type here lacks a required field anyway.)
        const ignored = where === 'unknown-field' || (t === 'accept' && where !== 'id' && where !== 'top');
        if (!ignored) expect(parsed).toBeUndefined();
      }),
      fcParams(),
    );
  });

  // Found by this suite, fixed since: the unknown-type message serialised the peer's `t`, and a
  // `t` nested ~5,000 levels deep overflowed JSON.stringify's stack (RangeError, not ProtocolError).
  it('deep JSON nesting in the type field: ProtocolError', () => {
    const deep = fc.record({ depth: fc.integer({ min: 1, max: 13_000 }), shape: fc.constantFrom('array' as const, 'object' as const) });
    fc.assert(
      fc.property(deep, ({ depth, shape }) => {
        const raw = `{"t":${nested(depth, shape)}}`;
        fc.pre(raw.length <= MAX_CONTROL_MESSAGE);
        const out = attempt(() => parseControl(raw));
        expect(out.ok).toBe(false);
        if (!out.ok) expectTyped(out.error, ProtocolError);
      }),
      fcParams(),
    );
  });

  it('pinned counterexample: {"t":[[[…]]]} 5,000 levels deep', () => {
    const out = attempt(() => parseControl(`{"t":${nested(5_000, 'array')}}`));
    expect(out.ok).toBe(false);
    if (!out.ok) expectTyped(out.error, ProtocolError);
  });
});

describe('parseControl(encodeControl(m)) round-trips', () => {
  it('every valid message of every type', () => {
    fc.assert(
      fc.property(controlMessage(), (msg) => {
        const parsed = parsesOrRejects(encodeControl(msg));
        expect(parsed).toEqual(msg);
      }),
      fcParams(),
    );
  });
});
