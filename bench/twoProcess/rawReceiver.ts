/**
 * Child side of the two-process raw baseline: counts the bytes arriving on the
 * harness's negotiated channel 0 of lane 0 and returns when `args.bytes` have come.
 */
import type { ChildPeerContext } from '../../harness/spawnPeer';

export default function rawReceiver({ channels, args }: ChildPeerContext): Promise<{ bytes: number }> {
  const { bytes } = args as { bytes: number };
  const channel = channels[0][0];
  channel.binaryType = 'arraybuffer';
  let got = 0;
  return new Promise((resolve) => {
    channel.onmessage = (e) => {
      got += (e.data as ArrayBuffer).byteLength;
      if (got >= bytes) resolve({ bytes: got });
    };
  });
}
