import { describe, expect, it } from 'vitest';
import { formatRoomCode, generateRoomCode, normalizeRoomCode, ROOM_CODE_ALPHABET } from '../../src/server/roomCode';

describe('room codes', () => {
  it('the alphabet has no look-alikes (0 O 1 I L) and 31 characters', () => {
    expect(ROOM_CODE_ALPHABET).toHaveLength(31);
    expect(ROOM_CODE_ALPHABET).not.toMatch(/[01IOL]/);
  });

  it('generateRoomCode: six alphabet characters; bytes at or above 248 are drawn again (no modulo bias)', () => {
    for (let i = 0; i < 200; i++) expect(generateRoomCode()).toMatch(/^[2-9A-HJKMNP-Z]{6}$/);
    // 248 = 8 × 31 is rejected; 0 → '2', 30 → 'Z', 247 → 247 % 31 = 30 → 'Z'.
    const bytes = [248, 255, 0, 30, 247, 31, 62, 1];
    const code = generateRoomCode((b) => {
      b.set(bytes.slice(0, b.length));
      return b;
    });
    expect(code).toBe('2ZZ223');
  });

  it.each([
    ['abc-def', 'ABCDEF'],
    [' ab c d-ef ', 'ABCDEF'],
    ['K7QM2X', 'K7QM2X'],
    ['ABCDE0', undefined],
    ['ABCDEFG', undefined],
    ['ABC', undefined],
    ['', undefined],
    [null, undefined],
    ['A'.repeat(40), undefined],
  ])('normalizeRoomCode(%j) → %j', (input, expected) => expect(normalizeRoomCode(input)).toBe(expected));

  it('formatRoomCode shows ABC-DEF and leaves non-codes alone', () => {
    expect(formatRoomCode('k7qm2x')).toBe('K7Q-M2X');
    expect(formatRoomCode('nope')).toBe('nope');
  });
});
