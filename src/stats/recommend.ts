/**
 * Turns a bottleneck and its evidence into one suggested change.
 */
import { FRAME_HEADER_SIZE } from '../protocol/frame';
import { CHROME_MAX_MESSAGE_SIZE, MIN_CHUNK_SIZE } from '../types';
import { DEFAULT_WINDOW_BYTES } from './detectBottleneck';
import { pickProfile } from './pickProfile';
import type { Bottleneck, Recommendation, TransferSignals } from './statsTypes';

/** `more-lanes` is suggested only below this many peer connections. */
export const MAX_RECOMMENDED_LANES = 4;
/** `more-channels` is suggested only below this many channels. */
export const MAX_RECOMMENDED_CHANNELS = 4;
/** Loss at or above this (2 %) with a bandwidth limit: `smaller-chunks`. */
export const SMALL_CHUNK_LOSS = 0.02;
/** Loss at or above this (0.5 %) with a bandwidth limit: `more-channels` (more SCTP streams, less head-of-line blocking). */
export const MORE_CHANNELS_LOSS = 0.005;
/** A profile switch needs at least this many samples of evidence. */
export const SWITCH_MIN_SAMPLES = 3;
/** The largest payload that fits Chromium's 256 KiB message limit with our frame header. */
export const DEFAULT_MAX_CHUNK = CHROME_MAX_MESSAGE_SIZE - FRAME_HEADER_SIZE;

/** What `recommend` reads: the evidence plus the bottleneck judged from it. */
export type RecommendInputs = TransferSignals & { readonly bottleneck: Bottleneck };

const none = (reason: string): Recommendation => ({ action: 'none', reason });
const mbps = (bps: number): string => `${(bps / 1e6).toFixed(1)} Mbit/s`;

/**
 * Suggests one change. A profile that no longer fits the measured path comes
 * first (`switch-profile`, when the pipeline reported its profile and an RTT
 * is known over ≥ 3 samples); otherwise the bottleneck decides:
 *
 * | bottleneck        | suggestion |
 * |-------------------|------------|
 * | network-latency   | `more-lanes` below 4 lanes: each peer connection brings its own SCTP window |
 * | network-bandwidth | `smaller-chunks` at loss ≥ 2 % above 16 KiB chunks; else `more-channels` at loss ≥ 0.5 % below 4 channels; else none |
 * | backpressure, cpu | `larger-chunks` below the largest chunk: fewer messages, less per-message cost |
 * | receiver, none, unknown | none |
 *
 * ## Example
 * ```ts
 * import { recommend } from './recommend'; // internal: TransferStats.recommendation carries its result
 * recommend({ samples: 5, throughputBps: 3e7, bottleneck: 'network-latency', lanes: 1, rttMs: 100 });
 * // { action: 'more-lanes', reason: 'RTT 100 ms caps each lane at about 32.0 Mbit/s; 1 lane in use' }
 * ```
 *
 * @param s The evidence and bottleneck.
 * @return The recommendation.
 */
export function recommend(s: RecommendInputs): Recommendation {
  if (s.profile && s.rttMs !== undefined && s.samples >= SWITCH_MIN_SAMPLES) {
    const fit = pickProfile({ rttMs: s.rttMs, lossRate: s.lossRate, jitterMs: s.jitterMs, bitrateBps: s.throughputBps });
    if (fit !== s.profile) {
      return {
        action: 'switch-profile',
        profile: fit,
        reason: `measured RTT ${s.rttMs.toFixed(1)} ms, loss ${((s.lossRate ?? 0) * 100).toFixed(2)} %` +
          `${s.jitterMs !== undefined ? `, jitter ${s.jitterMs.toFixed(1)} ms` : ''} fit '${fit}', not '${s.profile}'`,
      };
    }
  }
  const maxChunk = s.maxChunkSize ?? DEFAULT_MAX_CHUNK;
  const loss = s.lossRate ?? 0;
  switch (s.bottleneck) {
    case 'network-latency': {
      const lanes = s.lanes || 1;
      if (lanes >= MAX_RECOMMENDED_LANES) return none(`latency-bound with ${lanes} lanes already`);
      const ceiling = ((s.windowBytes ?? DEFAULT_WINDOW_BYTES) * 8 * 1000) / (s.rttMs ?? 1);
      return {
        action: 'more-lanes',
        reason: `RTT ${s.rttMs} ms caps each lane at about ${mbps(ceiling)}; ${lanes} lane${lanes === 1 ? '' : 's'} in use`,
      };
    }
    case 'network-bandwidth':
      if (loss >= SMALL_CHUNK_LOSS && s.chunkSize !== undefined && s.chunkSize > MIN_CHUNK_SIZE) {
        return { action: 'smaller-chunks', reason: `loss ${(loss * 100).toFixed(1)} %: a lost packet stalls or loses a whole message` };
      }
      if (loss >= MORE_CHANNELS_LOSS && (s.channels ?? 1) < MAX_RECOMMENDED_CHANNELS) {
        return { action: 'more-channels', reason: `loss ${(loss * 100).toFixed(1)} %: more SCTP streams, less head-of-line blocking` };
      }
      return none(`the path is full at about ${mbps(s.throughputBps)}`);
    case 'backpressure':
    case 'cpu':
      if (s.chunkSize !== undefined && s.chunkSize < maxChunk) {
        return {
          action: 'larger-chunks',
          reason: `${s.bottleneck === 'cpu' ? 'the event loop is saturated' : 'the transport drains slower than we fill'}; ` +
            `${s.chunkSize} B chunks cost more per byte than ${maxChunk} B ones`,
        };
      }
      return none(s.bottleneck === 'cpu' ? 'the event loop is saturated at the largest chunk size' : 'the transport is saturated at the largest chunk size');
    case 'receiver':
      return none('the receiver is the limit (disk or hashing); sending faster only grows its backlog');
    case 'none':
      return none('nothing that tuning would fix limits the transfer');
    default:
      return none('not enough evidence yet');
  }
}
