/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per
 * function and per file, as a share of the busy (non-idle) sampled time, heaviest first.
 * Profile a bundle, not tsx: tsx's output puts each module on one line, so
 * closures lose their names and lines (see docs/benchmarks.md for the commands).
 *
 *   node --import tsx bench/lib/summarizeProfile.ts prof/*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
if (!files.length) {
  console.error('usage: summarizeProfile.ts <file.cpuprofile>… [--top N]');
  process.exit(2);
}

/** Short location: path relative to the repo (or node: module), 1-based line. */
const where = (url: string, line: number): string => {
  const path = url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|test|node_modules)\//, '$1/');
  return path ? `${path}:${line + 1}` : '(native)';
};

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let totalUs = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    // Idle samples (and whole idle threads, such as tsx's loader worker) say nothing about the work.
    if (functionName === '(idle)') return;
    const fn = `${functionName || '(anonymous)'} ${where(url, lineNumber)}`;
    const f = url ? where(url, 0).replace(/:1$/, '') : functionName.startsWith('(') ? functionName : '(native)';
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    byFile.set(f, (byFile.get(f) ?? 0) + dt);
    totalUs += dt;
  });
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(totalUs / 1e6).toFixed(2)} s busy)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
};
print('self time by function', byFunction);
print('self time by file', byFile);
