/**
 * Found by the outside check: a receiveFiles started again as soon as the previous one failed (what a retry
 * loop does) does not always resume the partial that the failed one kept. docs/reliability.md promises: "On
 * failure or cancel the target is aborted and keeps what it persisted, which is what the next attempt resumes
 * from."
 *
 * Bug: ReceiverSession.fail() emits the error (`subscriber.error(e)`) right after starting the targets' aborts
 * (abortAll → FileReceiver.abort → `Promise.resolve(t.abort(reason))`, not awaited). directoryTarget's abort
 * writes the record, closes the file and only then releases its in-process claim on `<name>.tallow-part`. A
 * receiveFiles subscribed in the error callback (or any time before that) finds the partial still claimed,
 * skips it (claimPartial), creates a fresh part file from 0, and the old partial is left behind for good.
 * Seen in about one run of three of independentPeer.spec.ts's cancel-and-resume case before it waited for
 * the abort: "AFTER SECOND [] … big.bin big.bin.tallow-part:2097152 big.bin.tallow-part.json:88".
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { receiveFiles } from 'tallow-rx';
import { directoryTarget } from 'tallow-rx/node';
import { createVirtualLink, type VirtualLink } from 'tallow-rx/testing';
import { docSend, sha256Hex, type RawConnection } from './independentPeer';
import { watchAborts } from './watchAborts';

const dirs: string[] = [];
const links: VirtualLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('a receiver retried right after a failure', () => {
  const file = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 13) % 251);
  const files = [{ name: 'big.bin', bytes: file, lastModified: 1_700_000_000_000 }];

  // Was a bug (fixed; an it.fails before): the error was emitted before the target's abort has settled. Fix in
  // ReceiverSession.fail(): keep the promises abortAll() starts (FileReceiver.abort returning the target's
  // abort result) and call subscriber.error(e) once they have settled (synchronously when none is a promise,
  // so synchronous targets keep working under TestScheduler). Checked locally: with that change this case
  // passes, and so do test/limits, test/properties/resume.spec.ts and test/whole/{sessions,wholeTransfer}.
  it("its error comes only after the target's abort has settled (so a retry can claim the partial)", async () => {
    const l = createVirtualLink();
    links.push(l);
    const dir = await mkdtemp(join(tmpdir(), 'tallow-outside-retry-'));
    dirs.push(dir);
    const w = watchAborts(directoryTarget(dir, { checkpointEvery: 256 * 1024 }));
    const settledAtError = new Promise<boolean>((resolve) => receiveFiles(l.b, { target: w.target }).subscribe({ error: () => resolve(w.settled()) }));
    await docSend([l.a as unknown as RawConnection], files, { id: 1, idBase: 600, cancelAfterBytes: 1024 * 1024 });
    expect(await settledAtError).toBe(true);
  });

  it('once the abort has settled, the next receiveFiles resumes the partial and leaves no part file behind', async () => {
    const l = createVirtualLink();
    links.push(l);
    const dir = await mkdtemp(join(tmpdir(), 'tallow-outside-retry-'));
    dirs.push(dir);
    const w = watchAborts(directoryTarget(dir, { checkpointEvery: 256 * 1024 }));
    const failed = new Promise<void>((resolve) => receiveFiles(l.b, { target: w.target }).subscribe({ error: () => resolve() }));
    await docSend([l.a as unknown as RawConnection], files, { id: 1, idBase: 600, cancelAfterBytes: 1024 * 1024 });
    await failed;
    await Promise.all(w.aborts);

    const done = new Promise<void>((resolve, reject) => receiveFiles(l.b, { target: directoryTarget(dir) }).subscribe({ complete: resolve, error: reject }));
    const again = await docSend([l.a as unknown as RawConnection], files, { id: 2, idBase: 616 });
    await done;
    expect(again.resumed).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['big.bin']);
    expect(sha256Hex(await readFile(join(dir, 'big.bin')))).toBe(sha256Hex(file));
  });
});
