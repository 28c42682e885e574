import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeMarkedSection } from '../../bench/network';

describe('writeMarkedSection (how the network bench writes docs/benchmarks.md)', () => {
  const dirs: string[] = [];
  const file = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'marked-'));
    dirs.push(dir);
    const path = join(dir, 'doc.md');
    writeFileSync(path, text);
    return path;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('replaces only what stands between the markers', () => {
    const path = file('# Doc\n\nbefore\n<!-- network:begin -->\nold table\n<!-- network:end -->\nafter\n');
    writeMarkedSection(path, 'network', 'new table\n');
    expect(readFileSync(path, 'utf8')).toBe('# Doc\n\nbefore\n<!-- network:begin -->\nnew table\n<!-- network:end -->\nafter\n');
  });

  it('appends a marked section when the document has none, and leaves other sections alone', () => {
    const path = file('# Doc\n<!-- real:begin -->\nx\n<!-- real:end -->\n');
    writeMarkedSection(path, 'network', 'table');
    writeMarkedSection(path, 'network', 'table 2');
    expect(readFileSync(path, 'utf8')).toBe('# Doc\n<!-- real:begin -->\nx\n<!-- real:end -->\n\n<!-- network:begin -->\ntable 2\n<!-- network:end -->\n');
  });
});
