/**
 * Many sessions on one node-datachannel pair (127.0.0.1): each round sends one small file 30 times with
 * `sendFile`, then 1,000 files of 4 KiB as one `sendFiles` session 3 times (filesInFlight 1, 8, 32), all
 * into a discarding target. Counts failed sessions and the control channels each session needed (more
 * than one: a listing lost a message and was offered again, see docs/protocol.md, "Control-channel
 * replacement"). Before that fix, a session failed with "entry N out of order" about once in 15-20 rounds.
 *
 *   node --import tsx bench/sessionsOnOnePair.ts [rounds=20]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, merge } from 'rxjs';
import { connectLoopbackPair } from '../src/connect/connectLoopbackPair';
import { fileFromPath } from '../src/transfer/fileFromPath';
import { filesFromPaths } from '../src/transfer/filesFromPaths';
import { receiveFile } from '../src/transfer/receiveFile';
import { receiveFiles } from '../src/transfer/receiveFiles';
import { sendFile } from '../src/transfer/sendFile';
import { sendFiles } from '../src/transfer/sendFiles';
import { CONTROL_LABEL } from '../src/transfer/transferChannels';
import { discardTarget } from './lib/discardTarget';
import { writeSmallFiles } from './lib/fileTrees';

const rounds = Number(process.argv[2] ?? 20);
const dir = await mkdtemp(join(tmpdir(), 'tallow-one-pair-'));
await writeSmallFiles(join(dir, 'small'), 'small', 1000, 4096);
const set = await filesFromPaths([join(dir, 'small')]);
const one = await fileFromPath(join(dir, 'small', 'f00000.bin'));
const pair = await connectLoopbackPair({ lanes: 1 });
// Control channels the sender creates, counted per session.
let controls = 0;
const pc = pair.a[0] as unknown as { createDataChannel: (label: string, init?: unknown) => unknown };
const create = pc.createDataChannel.bind(pc);
pc.createDataChannel = (label, init) => {
  if (label === CONTROL_LABEL) controls++;
  return create(label, init);
};
let sessions = 0;
let failed = 0;
let replaced = 0;
for (let round = 0; round < rounds; round++) {
  const t0 = performance.now();
  for (let k = 0; k < 30; k++) await lastValueFrom(merge(receiveFile(pair.b, { target: discardTarget() }), sendFile(pair.a, one)));
  for (const filesInFlight of [1, 8, 32]) {
    controls = 0;
    sessions++;
    try {
      await lastValueFrom(merge(receiveFiles(pair.b, { target: discardTarget() }), sendFiles(pair.a, set, { filesInFlight })));
    } catch (e) {
      failed++;
      console.log(`round ${round}, filesInFlight ${filesInFlight}: FAILED ${(e as Error).message}`);
    }
    if (controls > 1) {
      replaced++;
      console.log(`round ${round}, filesInFlight ${filesInFlight}: ${controls} control channels`);
    }
  }
  console.log(`round ${round}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`${sessions} sessions of 1,000 files: ${failed} failed, ${replaced} needed more than one control channel`);
await pair.close();
await rm(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
