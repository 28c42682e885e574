import { describe, expect, it } from 'vitest';
import { compareListings, type ListedEntry } from '../../../bench/lib/compareListings';

const listing = (entries: Record<string, ListedEntry>) => new Map(Object.entries(entries));

describe('compareListings (many-files bench: did the right bytes arrive)', () => {
  it('finds nothing when the trees agree, folders included', () => {
    const tree = listing({ 'a/': { size: 0 }, 'a/x.bin': { size: 4, sha256: 'ab' } });
    expect(compareListings(tree, listing({ 'a/': { size: 0 }, 'a/x.bin': { size: 4, sha256: 'ab' } }))).toEqual([]);
  });

  it('names missing, unexpected and resized paths', () => {
    const problems = compareListings(listing({ a: { size: 4 }, b: { size: 4 }, 'd/': { size: 0 } }), listing({ a: { size: 3 }, c: { size: 4 } }));
    expect(problems).toEqual(['a: 3 B, expected 4 B', 'missing b', 'missing d/', 'unexpected c']);
  });

  it('compares digests only when both sides have one', () => {
    expect(compareListings(listing({ a: { size: 1, sha256: 'aa' } }), listing({ a: { size: 1 } }))).toEqual([]);
    expect(compareListings(listing({ a: { size: 1, sha256: 'aaaa' } }), listing({ a: { size: 1, sha256: 'bbbb' } }))).toEqual(['a: sha256 bbbb…, expected aaaa…']);
  });

  it('names at most `limit` differences and counts the rest', () => {
    const expected = listing(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, { size: 1 }])));
    expect(compareListings(expected, new Map(), 3)).toEqual(['missing f0', 'missing f1', 'missing f2', '… and 5 more']);
  });
});
