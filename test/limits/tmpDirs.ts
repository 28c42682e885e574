/**
 * Temporary directories for limit tests: `root/inbox` is handed to
 * `directoryTarget`, so a test can check both that the inbox holds only what it
 * should and that nothing appeared next to it (in `root`).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];
const links: { close(): void }[] = [];

/** Creates `root/inbox`; both are removed after the test. */
export async function inbox(): Promise<{ root: string; dir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'tallow-limits-'));
  made.push(root);
  const dir = join(root, 'inbox');
  await mkdir(dir);
  return { root, dir };
}

/** Closes `x` (a link or a hostile sender) after the test. */
export function closeAfter<T extends { close(): void }>(x: T): T {
  links.push(x);
  return x;
}

afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  // Let closing channels and aborted targets settle before the files go.
  await new Promise((resolve) => setTimeout(resolve, 20));
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
