/**
 * The systems of the browser benchmark (bench/browser.ts), as plain data shared by the
 * host process and the Chromium runner: what each moves, over what, with which settings.
 */
import { PROFILES } from '../../../src/transfer/profiles';
import type { SendOptions } from '../../../src/transfer/sendFile';

const KiB = 1024;

/** Chromium's largest message (`maxMessageSize`), bytes. */
export const CHROMIUM_MAX_MESSAGE_BYTES = 256 * KiB;

/**
 * The raw loop's watermarks: those of the profile tallow-rx's `auto` starts with on a LAN
 * (`lan`: 1 MiB high, 256 KiB low), so the baseline keeps the same amount queued.
 */
export const RAW_HIGH_WATER_BYTES = PROFILES.lan.high;
export const RAW_LOW_WATER_BYTES = PROFILES.lan.low;

/** One system under test. */
export type BrowserSystem =
  | {
      readonly kind: 'raw';
      readonly name: string;
      readonly messageBytes: number;
      readonly highWaterBytes: number;
      readonly lowWaterBytes: number;
      /** Both ends' loops run in a dedicated Worker each, the channel transferred there. Default false (main threads). */
      readonly inWorker?: boolean;
      /** An unordered channel (`ordered: false`, as tallow-rx's data channels) instead of an ordered one. Default false. */
      readonly unordered?: boolean;
      /** Channels of the one connection, message k on channel k mod n (tallow-rx's `lan` uses 2). Default 1. */
      readonly channels?: number;
    }
  | {
      readonly kind: 'tallow';
      readonly name: string;
      /** Peer connections between the two ends (each a lane for `auto`). */
      readonly connections: number;
      /** `page`: page to page; `node`: the page sends to node-datachannel in the runner process. */
      readonly receiver: 'page' | 'node';
      /** sendFile options (JSON-safe: tuning overrides only). Default `{}` (profile `auto`). */
      readonly options: Pick<SendOptions, 'maxChunk' | 'minChunk' | 'high' | 'low' | 'channels' | 'lanes'>;
      /** Runs the library of an older checkout (`--baseline`): the pages' `baseline` bundle. Default: this tree's. */
      readonly baseline?: boolean;
      /** Connections made with `channelsInWorker` (their data channels run in a Worker): on both pages, or on the receiving one. Default: neither. */
      readonly channelsInWorker?: true | 'receiver';
    }
  | { readonly kind: 'simple-peer'; readonly name: string; readonly writeBytes: number }
  | { readonly kind: 'peerjs'; readonly name: string; readonly messageBytes: number };

/** Every system `npm run bench -- --only browser` runs, in the order each round runs them. */
export const BROWSER_SYSTEMS: readonly BrowserSystem[] = [
  {
    kind: 'raw',
    name: 'raw RTCDataChannel, 1 ch, 256 KiB msgs',
    messageBytes: CHROMIUM_MAX_MESSAGE_BYTES,
    highWaterBytes: RAW_HIGH_WATER_BYTES,
    lowWaterBytes: RAW_LOW_WATER_BYTES,
  },
  {
    kind: 'raw',
    name: 'raw RTCDataChannel in Workers, 1 ch, 256 KiB msgs',
    messageBytes: CHROMIUM_MAX_MESSAGE_BYTES,
    highWaterBytes: RAW_HIGH_WATER_BYTES,
    lowWaterBytes: RAW_LOW_WATER_BYTES,
    inWorker: true,
  },
  { kind: 'tallow', name: 'tallow-rx auto, 1 connection', connections: 1, receiver: 'page', options: {} },
  { kind: 'tallow', name: 'tallow-rx auto, 1 connection, channelsInWorker', connections: 1, receiver: 'page', options: {}, channelsInWorker: true },
  { kind: 'tallow', name: 'tallow-rx auto, 1 connection, channelsInWorker on the receiving page', connections: 1, receiver: 'page', options: {}, channelsInWorker: 'receiver' },
  { kind: 'tallow', name: 'tallow-rx auto, 2 connections', connections: 2, receiver: 'page', options: {} },
  { kind: 'tallow', name: 'tallow-rx auto, 1 connection, 1 channel', connections: 1, receiver: 'page', options: { channels: 1 } },
  { kind: 'simple-peer', name: 'simple-peer 9, write() 64 KiB', writeBytes: 64 * KiB },
  { kind: 'peerjs', name: "PeerJS 1.5, 'raw', 256 KiB msgs", messageBytes: CHROMIUM_MAX_MESSAGE_BYTES },
  { kind: 'tallow', name: 'tallow-rx auto, 1 connection, Chromium → node-datachannel', connections: 1, receiver: 'node', options: {} },
  {
    kind: 'raw',
    name: 'raw RTCDataChannel unordered, 1 ch, 256 KiB msgs',
    messageBytes: CHROMIUM_MAX_MESSAGE_BYTES,
    highWaterBytes: RAW_HIGH_WATER_BYTES,
    lowWaterBytes: RAW_LOW_WATER_BYTES,
    unordered: true,
  },
  {
    kind: 'raw',
    name: 'raw RTCDataChannel unordered, 2 ch, 256 KiB msgs',
    messageBytes: CHROMIUM_MAX_MESSAGE_BYTES,
    highWaterBytes: RAW_HIGH_WATER_BYTES,
    lowWaterBytes: RAW_LOW_WATER_BYTES,
    unordered: true,
    channels: 2,
  },
];

/**
 * The tuning grid of `--grid`: the raw loop at three watermark pairs, and tallow-rx `auto` over
 * one connection, page to page, with chunk size and watermarks overridden. Chromium limits the choice: a message is at most 256 KiB
 * (chunk + 32 B header; a larger `maxChunk` is clamped to fit), `high + message` must stay under the 16 MiB send queue, and
 * `bufferedamountlow` fires only in coarse steps below about 100 KiB, so `low` stays above that.
 * `channels` is pinned to `lan`'s 2: under load the RTT probe can pick `wifi` (3 channels) instead.
 */
export function tuningGrid(): BrowserSystem[] {
  const marks: Array<[number, number]> = [
    [1024 * KiB, 256 * KiB],
    [4096 * KiB, 1024 * KiB],
    [8192 * KiB, 2048 * KiB],
  ];
  const label = (high: number, low: number) => `high ${high / KiB} / low ${low / KiB} KiB`;
  const tallow = (maxChunk: number, high: number, low: number): BrowserSystem => ({
    kind: 'tallow',
    name: `tallow-rx auto, 1 conn, chunk ≤ ${Math.round(maxChunk / KiB)} KiB, ${label(high, low)}`,
    connections: 1,
    receiver: 'page',
    options: { channels: 2, maxChunk, minChunk: Math.min(maxChunk, 16 * KiB), high, low },
  });
  return [
    // The channel alone: does Chromium move more with more queued?
    ...marks.map(([high, low]): BrowserSystem => ({ kind: 'raw', name: `raw, 256 KiB msgs, ${label(high, low)}`, messageBytes: CHROMIUM_MAX_MESSAGE_BYTES, highWaterBytes: high, lowWaterBytes: low })),
    // tallow-rx: the watermarks at the largest chunk, then smaller chunks at the current watermarks.
    ...marks.map(([high, low]) => tallow(256 * KiB, high, low)),
    tallow(128 * KiB, 1024 * KiB, 256 * KiB),
    tallow(64 * KiB, 1024 * KiB, 256 * KiB),
  ];
}

/**
 * The rows `--baseline <dir> [--baseline-label <text>]` adds: tallow-rx auto over one and two connections, page to page,
 * from the older checkout in `dir`, so before and after compare within one run.
 */
export function baselineSystems(label: string): BrowserSystem[] {
  return [1, 2].map(
    (connections): BrowserSystem => ({
      kind: 'tallow',
      name: `tallow-rx auto, ${connections} connection${connections > 1 ? 's' : ''} (baseline ${label})`,
      connections,
      receiver: 'page',
      options: {},
      baseline: true,
    }),
  );
}
