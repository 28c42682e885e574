/**
 * Every `import { … } from 'tallow-rx'` (or 'tallow-rx/node', 'tallow-rx/testing') printed in README.md,
 * docs/*.md and the `## Example` blocks of src/ names only what that entry exports. Values are looked up on
 * the entry module itself; types, which leave no trace at run time, through the TypeScript checker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as main from '../../src/index';
import * as node from '../../src/node';
import * as testing from '../../src/testing/index';
import * as protocol from '../../src/protocol';
import * as stats from '../../src/stats';

const root = resolve(__dirname, '../..');
const entries = {
  'tallow-rx': { module: main as Record<string, unknown>, file: 'src/index.ts' },
  'tallow-rx/node': { module: node as Record<string, unknown>, file: 'src/node.ts' },
  'tallow-rx/testing': { module: testing as Record<string, unknown>, file: 'src/testing/index.ts' },
  'tallow-rx/protocol': { module: protocol as Record<string, unknown>, file: 'src/protocol.ts' },
  'tallow-rx/stats': { module: stats as Record<string, unknown>, file: 'src/stats.ts' },
};
type Entry = keyof typeof entries;

/** Every name each entry exports, types included, as the compiler sees it. */
function exportedNames(): Record<Entry, Set<string>> {
  const program = ts.createProgram(
    Object.values(entries).map((e) => join(root, e.file)),
    { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, skipLibCheck: true, noEmit: true, types: ['node'] },
  );
  const checker = program.getTypeChecker();
  const names = (file: string) => {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(join(root, file))!)!;
    return new Set(checker.getExportsOfModule(symbol).map((s) => s.name));
  };
  return Object.fromEntries(Object.entries(entries).map(([entry, { file }]) => [entry, names(file)])) as Record<Entry, Set<string>>;
}

interface Imported {
  readonly where: string;
  readonly entry: Entry;
  readonly name: string;
}

const IMPORT = /import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'(tallow-rx(?:\/node|\/testing|\/protocol|\/stats)?)'/g;

/** The named imports from the package in one text. */
const importsInText = (text: string, where: string): Imported[] =>
  [...text.matchAll(IMPORT)].flatMap(([, list, entry]) =>
    list
      .split(',')
      .map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0])
      .filter(Boolean)
      .map((name) => ({ where, entry: entry as Entry, name })),
  );

/** The named imports from the package in one file (in a .ts file, JSDoc's leading `*` removed first). */
function importsIn(path: string): Imported[] {
  const raw = readFileSync(path, 'utf8');
  return importsInText(path.endsWith('.ts') ? raw.replace(/^[ \t]*\* ?/gm, '') : raw, relative(root, path));
}

const files = (dir: string, ext: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(root, dir, f));

const pages = [join(root, 'README.md'), ...files('docs', '.md')];
const sources = files('src', '.ts');

describe('imports from the package in the documentation', () => {
  const exported = exportedNames();
  const missing = (found: Imported[]) =>
    found.filter(({ entry, name }) => !(name in entries[entry].module) && !exported[entry].has(name)).map(({ where, entry, name }) => `${where}: ${name} from '${entry}'`);

  it('README.md and docs/*.md import only exported names', () => {
    const found = pages.flatMap(importsIn);
    // The check has something to check: snippets import from each entry.
    expect(new Set(found.map((i) => i.entry))).toEqual(new Set(Object.keys(entries)));
    expect(missing(found)).toEqual([]);
  });

  it("src/'s JSDoc examples import only exported names", () => {
    const found = sources.flatMap(importsIn);
    expect(found.length).toBeGreaterThan(20);
    expect(missing(found)).toEqual([]);
  });

  it('reports names an entry does not export', () => {
    const text = "```ts\nimport { sendFile, type Nope } from 'tallow-rx';\nimport {\n  createVirtualLink,\n  probeProfile,\n} from 'tallow-rx/testing';\n```";
    expect(missing(importsInText(text, 'probe.md'))).toEqual(["probe.md: Nope from 'tallow-rx'", "probe.md: probeProfile from 'tallow-rx/testing'"]);
  });
});
