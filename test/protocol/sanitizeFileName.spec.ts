import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { MAX_SAFE_NAME_BYTES, sanitizeFileName } from '../../src/protocol/sanitizeFileName';

describe('sanitizeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['/etc/shadow', 'shadow'],
    ['C:\\Windows\\system32\\cmd.exe', 'cmd.exe'],
    ['..\\..\\boot.ini', 'boot.ini'],
    ['.hidden', 'hidden'],
    ['name. ', 'name'],
    ['a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['tab\there', 'tab_here'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['lpt1', '_lpt1'],
    // Direction controls would make a name display in another order than it has: "\u202Etxt.exe" shows as "exe.txt".
    ['\u202Etxt.exe', '_txt.exe'],
    ['invoice\u2067fdp.exe\u2069.pdf', 'invoice_fdp.exe_.pdf'],
    ['a\u200Eb\u200Fc\u061Cd', 'a_b_c_d'],
    ['c1\u0085control', 'c1_control'],
    ['line\u2028break\u2029.txt', 'line_break_.txt'],
    ['\ufeffbom\u200Bzero.txt', '_bom_zero.txt'],
    ['family 👨\u200D👩\u200D👧.png', 'family 👨\u200D👩\u200D👧.png'],
    ['日本語 ファイル.txt', '日本語 ファイル.txt'],
  ])('%j -> %j', (input, want) => {
    expect(sanitizeFileName(input)).toBe(want);
  });

  it('rejects names with NUL or with nothing usable', () => {
    for (const n of ['a\u0000b', '..', '.', '', '   ', 'dir/', '../..']) {
      expect(() => sanitizeFileName(n)).toThrow(ProtocolError);
    }
  });

  it('cuts long names to the byte limit and keeps the extension', () => {
    const out = sanitizeFileName('é'.repeat(300) + '.tar.gz');
    expect(new TextEncoder().encode(out).length).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    expect(out.endsWith('.gz')).toBe(true);
  });

  it('the examples docs/protocol.md gives: 254 × a + .bin → 196 × a + .bin; 128 × é (256 bytes) → 100 × é', () => {
    expect(sanitizeFileName('a'.repeat(254) + '.bin')).toBe('a'.repeat(196) + '.bin');
    expect(sanitizeFileName('é'.repeat(128))).toBe('é'.repeat(100));
    // An extension over 16 characters is not kept: the cut takes the first 200 bytes.
    expect(sanitizeFileName('b'.repeat(190) + '.' + 'x'.repeat(20))).toBe('b'.repeat(190) + '.' + 'x'.repeat(9));
  });
});
