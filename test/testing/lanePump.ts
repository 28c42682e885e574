/**
 * A stand-in data pump for the virtual-network and lane-controller specs (not
 * the real transfer): it keeps one reliable, ordered channel of a lane full
 * and counts the bytes that arrive.
 */
import type { VirtualLink } from '../../src/testing';

/** Options of {@link pumpLane}. */
export interface PumpConfig {
  /** Bytes per message. Default 16 KiB. */
  readonly chunkBytes?: number;
  /** The pump sends while `bufferedAmount` is below this, bytes. Default 128 KiB. */
  readonly highWaterBytes?: number;
}

/** A running pump. */
export interface Pump {
  /** Payload bytes delivered at the far end so far. */
  readonly received: () => number;
  /** Stops sending and closes the channel. */
  readonly stop: () => void;
}

/**
 * Opens channel `data` on `link` and keeps it full from endpoint `a`; counts what arrives at `b`.
 *
 * @param link A lane (`network.createLink()`) or any virtual link.
 * @param config Message size and how much to keep buffered.
 * @return The pump.
 */
export function pumpLane(link: VirtualLink, { chunkBytes = 16_384, highWaterBytes = 131_072 }: PumpConfig = {}): Pump {
  const [local, remote] = link.createChannel('data');
  const chunk = new Uint8Array(chunkBytes);
  // Bytes delivered at b.
  let received = 0;
  // Set by stop().
  let stopped = false;
  const fill = (): void => {
    while (!stopped && local.readyState === 'open' && local.bufferedAmount < highWaterBytes) local.send(chunk);
  };
  local.bufferedAmountLowThreshold = highWaterBytes / 2;
  local.onopen = fill;
  local.onbufferedamountlow = fill;
  remote.onmessage = (e: MessageEvent) => void (received += (e.data as ArrayBuffer).byteLength);
  return {
    received: () => received,
    stop: () => {
      stopped = true;
      local.close();
    },
  };
}
