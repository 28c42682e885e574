/**
 * What a system under test (before, simple-peer, seed-as-written, tallow-rx)
 * gets and returns in the network benchmark.
 */
import type { LinkEmulatorApi } from '../UdpRelay';

/** One transfer to make. */
export interface TransferInput {
  /** The file. */
  readonly data: Uint8Array<ArrayBuffer>;
  /** Its SHA-256, hex. */
  readonly sha256: string;
  /** The emulator to connect through; undefined for plain loopback. */
  readonly emulator?: LinkEmulatorApi;
  /** The configured RTT, ms (grace periods scale with it). */
  readonly rttMs: number;
  /** Give up after this long, ms. */
  readonly timeoutMs: number;
}

/** What came out of it. */
export interface TransferOutcome {
  /** From the first byte offered to the sender until the receiver had everything it would get, s. Connection setup excluded. */
  readonly seconds: number;
  /** Payload bytes delivered intact. */
  readonly delivered: number;
  /** True when the receiver's bytes hash to the input's SHA-256. */
  readonly intact: boolean;
  /** Bytes never delivered (unreliable systems). */
  readonly lostBytes?: number;
  /** Bytes delivered with the wrong content. */
  readonly corruptBytes?: number;
  /** True when delivery stopped for good (no data for a long while, nothing to show for it): `seconds` then runs to the last delivery. */
  readonly stalled?: boolean;
  /** Short facts for the notes column. */
  readonly notes?: readonly string[];
}

/** A system under test. */
export interface NetworkSystem {
  readonly name: string;
  run(input: TransferInput): Promise<TransferOutcome>;
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits for `bufferedamountlow` on `channel`, or a poll showing `bufferedAmount <= low` (libdatachannel sometimes skips the event). Resolves true when the poll had to step in. */
export function waitForLow(channel: RTCDataChannel, low: number, pollMs = 50): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (rescued: boolean) => {
      clearInterval(poll);
      channel.removeEventListener('bufferedamountlow', onLow);
      resolve(rescued);
    };
    const onLow = () => done(false);
    const poll = setInterval(() => {
      if (channel.bufferedAmount <= low || channel.readyState !== 'open') done(true);
    }, pollMs);
    channel.addEventListener('bufferedamountlow', onLow);
  });
}
