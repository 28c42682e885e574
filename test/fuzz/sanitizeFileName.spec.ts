/**
 * Fuzzing `sanitizeFileName` (src/protocol/sanitizeFileName.ts), which turns a
 * peer's file name into something safe to create in the receiver's directory.
 * For any unicode string it either throws `ProtocolError` or returns one path
 * component that stays inside the directory under POSIX and Windows path rules:
 * no NUL, `/` or `\`, not `.` or `..`, at most 200 UTF-8 bytes. Replay a failure
 * with FC_SEED / FC_PATH (see ./fc.ts).
 */
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/index';
import { sanitizeFileName } from '../../src/protocol';
import { MAX_NAME_LENGTH } from '../../src/protocol/control';
import { MAX_SAFE_NAME_BYTES } from '../../src/protocol/sanitizeFileName';
import { attempt, expectTyped, fcParams } from './fc';

/** Characters that make names dangerous: separators, dots, NUL and controls, Windows specials, bidi and width tricks, astral and lone surrogates. */
const NASTY = [
  '.', '..', '/', '\\', '\u0000', '\u0001', '\u001f', '\u007f', ' ', '\t', '\n', ':', '*', '?', '"', '<', '>', '|', '~', '$',
  'C:', 'c:\\', '\\\\?\\', '\\\\server\\share\\', 'CON', 'con', 'NUL', 'aux', 'COM1', 'lpt9', 'CONIN$', 'conout$', '.txt', '.tar.gz',
  '\u2215', '\u2044', '\uff0f', '\uff3c', '\u2024', '\uff0e', '\u202e', '\u200b', '\ufeff', 'e\u0301', '\u00e9', 'ﬁ', '😀', '\ud800', '\udfff',
  '%2e%2e%2f', '..%c0%af', 'a', 'file', 'x'.repeat(50), 'é'.repeat(40), '😀'.repeat(30),
];

/** Strings from the nasty alphabet, plain unicode strings, and long names up to the protocol's MAX_NAME_LENGTH. */
const names = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.array(fc.constantFrom(...NASTY), { maxLength: 12 }).map((parts) => parts.join('')),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 120 }),
    fc
      .tuple(fc.array(fc.constantFrom(...NASTY), { minLength: 1, maxLength: 6 }), fc.integer({ min: 150, max: MAX_NAME_LENGTH }))
      .map(([parts, n]) => {
        let s = '';
        while (s.length < n) s += parts.join('');
        return Array.from(s).slice(0, n).join('');
      }),
  );

const POSIX_DIR = '/srv/downloads/inbox';
const WIN_DIR = 'C:\\Users\\me\\Downloads';

/** Everything the result must be, whatever the input was. */
const expectSafe = (name: string): void => {
  expect(typeof name).toBe('string');
  expect(name.length).toBeGreaterThan(0);
  for (const bad of ['\u0000', '/', '\\']) expect(name).not.toContain(bad);
  expect(name).not.toBe('.');
  expect(name).not.toBe('..');
  expect(Buffer.byteLength(name, 'utf8')).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
  // One component that stays inside the directory, under both path flavours.
  for (const [p, dir] of [
    [path.posix, POSIX_DIR],
    [path.win32, WIN_DIR],
  ] as const) {
    const joined = p.resolve(p.join(dir, name));
    expect(joined.startsWith(dir + p.sep), `${p === path.posix ? 'posix' : 'win32'}: ${JSON.stringify(name)} → ${joined}`).toBe(true);
    expect(p.dirname(joined)).toBe(dir);
    expect(p.basename(joined)).toBe(name);
  }
  // No Windows drive or stream syntax, no device name.
  expect(name).not.toContain(':');
  expect(name).not.toMatch(/^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\..*)?$/i);
};

describe('sanitizeFileName under hostile names', () => {
  it('returns one safe path component inside the directory, or throws ProtocolError', () => {
    fc.assert(
      fc.property(names(), (raw) => {
        const out = attempt(() => sanitizeFileName(raw));
        if (!out.ok) {
          expectTyped(out.error, ProtocolError);
          expect((out.error as ProtocolError).code).toBe('ERR_UNSAFE_NAME');
          return;
        }
        expectSafe(out.value);
        // A name with NUL is always refused: no legitimate sender produces one.
        expect(raw.includes('\u0000')).toBe(false);
      }),
      fcParams(),
    );
  });

  it('keeps a plain, short, safe name unchanged', () => {
    const plain = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9 _().-]{0,60}[A-Za-z0-9_)]$/);
    fc.assert(
      fc.property(plain, (name) => {
        fc.pre(!/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i.test(name));
        expect(sanitizeFileName(name)).toBe(name);
      }),
      fcParams(),
    );
  });

  it('strips directories: the result is the sanitised last component of any path', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('..', '.', 'etc', '', 'C:', '~'), { maxLength: 6 }), fc.constantFrom('/', '\\'), fc.stringMatching(/^[a-z]{1,12}(\.[a-z]{1,4})?$/), (dirs, sep, base) => {
        // A bare device name (`con`, `nul.txt`, …) is prefixed with `_` whether or not
        // directories stood before it: the result is the last component, sanitised alone.
        const device = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i.test(base);
        expect(sanitizeFileName([...dirs, base].join(sep))).toBe(device ? `_${base}` : base);
        expect(sanitizeFileName([...dirs, base].join(sep))).toBe(sanitizeFileName(base));
      }),
      fcParams(),
    );
  });

  it.each([
    ['../../etc/passwd', 'passwd'],
    ['/etc/passwd', 'passwd'],
    ['..\\..\\Windows\\System32\\drivers\\etc\\hosts', 'hosts'],
    ['C:\\Windows\\win.ini', 'win.ini'],
    ['C:evil.txt', 'C_evil.txt'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['file.txt:stream', 'file.txt_stream'],
    ['...hidden', 'hidden'],
    ['name. . .', 'name'],
  ])('pins %j → %j', (raw, expected) => {
    expect(sanitizeFileName(raw)).toBe(expected);
  });

  it.each(['', '.', '..', '../..', '/', '\\', ' . ', 'a\u0000b', '\u0000'])('refuses %j with ProtocolError', (raw) => {
    const out = attempt(() => sanitizeFileName(raw));
    expect(out.ok).toBe(false);
    if (!out.ok) expectTyped(out.error, ProtocolError);
  });

  it('a name of MAX_NAME_LENGTH characters (the most a manifest carries) is cut to 200 bytes', () => {
    for (const c of ['a', 'é', '😀', '\u4e00']) {
      const out = attempt(() => sanitizeFileName(c.repeat(MAX_NAME_LENGTH / c.length) + '.bin'));
      expect(out.ok).toBe(true);
      if (out.ok) {
        expectSafe(out.value);
        expect(out.value.endsWith('.bin')).toBe(true);
      }
    }
  });

  // Found by this suite, fixed since: trailing dots and spaces were stripped before the cut to
  // MAX_SAFE_NAME_BYTES, so a cut could end a name with one (Windows drops them silently).
  it('a name cut at 200 bytes does not end with a space or a dot', () => {
    for (const raw of ['a'.repeat(199) + ' b', 'a'.repeat(199) + '.' + 'b'.repeat(20)]) {
      expect(sanitizeFileName(raw)).not.toMatch(/[. ]$/);
    }
  });

  // Found by this suite, fixed since: the stem was cut one code point at a time, re-encoding it
  // each time (quadratic: 65,536 characters took 40-100 s). The budget (500 ms for 16 K
  // characters) is a blow-up detector, hundreds of times what the linear cut needs.
  it('a 16 K-character name is cut within the case budget', () => {
    const out = attempt(() => sanitizeFileName('a'.repeat(16 * 1024)), 500);
    expect(out.ok).toBe(true);
  });
});
