/**
 * The docs' examples are tests: each `*.example.spec.ts` here must appear verbatim in its page, so what
 * a reader copies is what the suite runs (`tallow-rx` resolves to the source, see vitest.config.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('docs examples run as printed', () => {
  it.each([
    ['test/docs/wholeTransfer.example.spec.ts', 'docs/testing.md'],
    ['test/docs/customRouter.example.spec.ts', 'docs/testing.md'],
  ])('%s is printed in %s', (example, page) => {
    expect(read(page)).toContain('```ts\n' + read(example) + '```');
  });

  it("docs/stats.md's UI examples give every subscribe an error callback (a view errors with its transfer; without one, RxJS rethrows it)", () => {
    const blocks = [...read('docs/stats.md').matchAll(/```tsx?\n([\s\S]*?)```/g)].map((m) => m[1]);
    const calls = blocks.flatMap((b) => [...b.matchAll(/\.subscribe\(([\s\S]{0,40})/g)].map((m) => m[1]));
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const block of blocks) {
      const subscribes = block.split('.subscribe(').length - 1;
      const errors = block.split(/\berror: /).length - 1;
      expect(errors, block).toBeGreaterThanOrEqual(subscribes);
    }
  });

  it("docs/testing.md's worked example imports what it uses from vitest", () => {
    const block = read('docs/testing.md').split("it('sends while there is room")[0];
    expect(block.slice(block.lastIndexOf('```ts'))).toContain("import { expect, it } from 'vitest';");
  });
});
