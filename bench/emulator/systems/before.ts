/**
 * "Before": what a typical app did before this library. One ordered, reliable
 * channel; 16 KiB messages; backpressure as simple-peer does it (pause while
 * `bufferedAmount` > 64 KiB, resume on `bufferedamountlow` with the threshold
 * at 64 KiB). A slow poll rescues a missed event and is counted.
 */
import { createHash } from 'node:crypto';
import { openChannels } from '../../../harness/nodePeers';
import { connectPeers } from '../peers';
import { waitForLow, withTimeout, type NetworkSystem, type TransferInput, type TransferOutcome } from './types';

/** simple-peer's MAX_BUFFERED_AMOUNT. */
export const BEFORE_MAX_BUFFERED = 64 * 1024;
/** Message size. */
export const BEFORE_MESSAGE = 16 * 1024;

export const before: NetworkSystem = {
  name: 'before',
  async run(input: TransferInput): Promise<TransferOutcome> {
    const peers = await connectPeers(input.emulator);
    try {
      const [[tx], [rx]] = await openChannels(peers.lanes[0], 1, { ordered: true });
      tx.bufferedAmountLowThreshold = BEFORE_MAX_BUFFERED;
      const { data } = input;
      const hash = createHash('sha256');
      let got = 0;
      let rescued = 0;
      const started = performance.now();
      const received = new Promise<number>((resolve) => {
        rx.onmessage = (e) => {
          const bytes = new Uint8Array(e.data as ArrayBuffer);
          hash.update(bytes);
          got += bytes.length;
          if (got >= data.length) resolve(performance.now());
        };
      });
      const send = async () => {
        for (let off = 0; off < data.length; off += BEFORE_MESSAGE) {
          if (tx.bufferedAmount > BEFORE_MAX_BUFFERED && (await waitForLow(tx, BEFORE_MAX_BUFFERED, 100))) rescued++;
          tx.send(data.subarray(off, Math.min(off + BEFORE_MESSAGE, data.length)));
        }
      };
      const [, ended] = await withTimeout(Promise.all([send(), received]), input.timeoutMs, 'before');
      const intact = hash.digest('hex') === input.sha256;
      return {
        seconds: (ended - started) / 1000,
        delivered: intact ? got : 0,
        intact,
        notes: rescued ? [`${rescued} missed bufferedamountlow`] : [],
      };
    } finally {
      await peers.close();
    }
  },
};
