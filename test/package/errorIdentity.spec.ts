/**
 * The built package: each error class exists once per module format, so an
 * error raised through `tallow-rx/testing` or `tallow-rx/node` is `instanceof`
 * the main entry's `TallowError`, under `require` and under `import`.
 *
 * Builds with the project's tsup config (no d.ts, no source maps: about 2 s)
 * into a temporary `node_modules/tallow-rx` under `.tmp/`, so it needs no prior
 * `npm run build` and never touches `dist/`. Node resolves `rxjs` and the other
 * externals from the repository's node_modules. The checks run in a child
 * `node`, outside vitest's module loader, through the package's `exports` map.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
let dir: string;
let pkg: string;

beforeAll(async () => {
  await mkdir(join(root, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(root, '.tmp', 'package-'));
  // Its own package scope, or Node would resolve \`tallow-rx\` to the repository itself (self-reference).
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tallow-rx-package-probe', private: true }));
  pkg = join(dir, 'node_modules', 'tallow-rx');
  await mkdir(pkg, { recursive: true });
  await copyFile(join(root, 'package.json'), join(pkg, 'package.json'));
  const { build } = await import('tsup');
  await build({ config: join(root, 'tsup.config.ts'), outDir: join(pkg, 'dist'), dts: false, sourcemap: false, silent: true });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs in a child node with cwd = the temp dir: loads the three entries both ways and compares classes. */
const probe = `
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/');
const caught = (f) => { try { f(); } catch (e) { return e; } return undefined; };
const check = (main, testing, node) => {
  const t = caught(() => testing.createVirtualLink({ bandwidth: -1 }));
  const n = caught(() => node.toFile('never-written.bin', { maxQueuedBytes: 0 }));
  return {
    testing: [t?.name, t instanceof main.TallowError, t instanceof main.InvalidConfigError],
    node: [n?.name, n instanceof main.TallowError, n instanceof main.InvalidConfigError],
  };
};
const cjs = check(require('tallow-rx'), require('tallow-rx/testing'), require('tallow-rx/node'));
const esm = check(await import('tallow-rx'), await import('tallow-rx/testing'), await import('tallow-rx/node'));
console.log(JSON.stringify({ cjs, esm }));
`;

describe('package entries share one set of error classes', () => {
  it('an error from tallow-rx/testing or tallow-rx/node is instanceof the main TallowError (require and import)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, timeout: 15_000 });
    const same = ['InvalidConfigError', true, true];
    expect(JSON.parse(stdout)).toEqual({ cjs: { testing: same, node: same }, esm: { testing: same, node: same } });
  });

  it('defines TallowError once per format (in the library; the command line is a program of its own)', async () => {
    // dist/cli.js is the `tallow-rx` command (package.json `bin`), bundled into one file: nobody imports it,
    // so its own copy of the classes never meets a user's `instanceof`.
    const files = (await readdir(join(pkg, 'dist'))).filter((f) => f !== 'cli.js');
    const count = async (ext: string) => {
      let n = 0;
      for (const f of files.filter((f) => f.endsWith(ext))) {
        n += (await readFile(join(pkg, 'dist', f), 'utf8')).match(/\bTallowError = class\b|\bclass TallowError\b/g)?.length ?? 0;
      }
      return n;
    };
    expect({ esm: await count('.js'), cjs: await count('.cjs') }).toEqual({ esm: 1, cjs: 1 });
  });
});
