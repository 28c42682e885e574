/**
 * Does this Chromium transfer an RTCDataChannel to a Worker? (#14: "Where a browser supports transferring an
 * RTCDataChannel to a worker, consider running the whole data path there.") Prints what
 * bench/lib/browser/channelTransferProbe.ts found, with the default flags and with the runtime feature on:
 *
 *   npx tsx bench/channelTransfer.ts
 */
import { spawnChromiumRunner } from '../test/harness/chromium';
import type { ChannelTransferAnswer } from './lib/browser/channelTransferProbe';

async function main(): Promise<void> {
  const runner = await spawnChromiumRunner(new URL('./lib/browser/channelTransferProbe.ts', import.meta.url), { timeoutMs: 60_000 });
  try {
    const answers = (await runner.result) as ChannelTransferAnswer[];
    for (const a of answers) console.log(JSON.stringify(a, null, 2));
  } finally {
    await runner.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
