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

  it("docs/testing.md's worked example imports what it uses from vitest", () => {
    const block = read('docs/testing.md').split("it('sends while there is room")[0];
    expect(block.slice(block.lastIndexOf('```ts'))).toContain("import { expect, it } from 'vitest';");
  });
});
