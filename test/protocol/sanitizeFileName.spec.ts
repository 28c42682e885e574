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
});
