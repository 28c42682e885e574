import { describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/printable';
import { summaryLines } from '../../src/cli/progressLine';

describe('printable: text from the other peer, safe for a terminal', () => {
  it('escapes C0 and C1 controls, DEL and bidirectional overrides; leaves other text alone', () => {
    expect(printable('a\x1b[2Jb')).toBe('a\\u{1b}[2Jb');
    expect(printable('\x9b31m\x07\x7f\r\n')).toBe('\\u{9b}31m\\u{7}\\u{7f}\\u{d}\\u{a}');
    expect(printable('invoice\u202Efdp.exe')).toBe('invoice\\u{202e}fdp.exe');
    expect(printable('résumé 写真 🎉 a b.txt')).toBe('résumé 写真 🎉 a b.txt');
  });

  it('the summary shows a hostile file name escaped, with its width measured after escaping', () => {
    const lines = summaryLines([{ path: '\x1b]0;pwned\x07a.txt', bytes: 1, sha256: 'ab'.repeat(32) }], 1, 80);
    expect([...lines[0]].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(lines[0]).toContain('\\u{1b}]0;pwned\\u{7}a.txt');
  });
});
