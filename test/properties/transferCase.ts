/**
 * The random transfer cases of the fault property: a file size biased to the
 * edges, a chunk policy, channels, lanes, a reliability mode, link faults and
 * sometimes a cut (one data channel closed, or a whole link failed) at a
 * chosen data frame.
 */
import fc from 'fast-check';
import { CHROME_MAX_MESSAGE_SIZE, FRAME_HEADER_SIZE } from '../../src/protocol';
import type { Reliability } from '../../src/protocol/control';
import { MIN_CHUNK_SIZE } from '../../src/types';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The largest payload a 256 KiB message carries. */
export const MAX_PAYLOAD = CHROME_MAX_MESSAGE_SIZE - FRAME_HEADER_SIZE;
/** The largest file a case sends. */
export const MAX_CASE_SIZE = 3 * MiB;

/** How a case ends a channel mid-transfer. */
export type Cut =
  /** `close()` data channel `channel` from the sender's or the receiver's end. */
  | { readonly kind: 'close-channel'; readonly channel: number; readonly end: 'sender' | 'receiver'; readonly at: number }
  /** `link.fail()` on the link of lane `lane` (lane 0 carries the control channel). */
  | { readonly kind: 'fail-link'; readonly lane: number; readonly at: number };

/** One generated case. */
export interface TransferCase {
  readonly size: number;
  /** `undefined`: the defaults (`auto` lets chunks roam 16 KiB … 256 KiB − 32 B; 64 KiB max when unreliable). */
  readonly chunk: { readonly min: number; readonly max: number } | undefined;
  readonly channels: number;
  /** Virtual links given to both sides (the sender uses `min(connections, channels)` lanes). */
  readonly connections: number;
  readonly reliability: Reliability;
  readonly link: {
    readonly seed: number;
    readonly bandwidth: number;
    readonly delayMs: number;
    readonly jitterMs: number;
    readonly reorder: number;
    /** Unreliable channels only (the virtual link never duplicates on reliable ones). */
    readonly duplicate: number;
    /** Unreliable mode only: on reliable channels the virtual link turns loss into delay. */
    readonly lossRate: number;
    /** Bit flips, on the data channels only (the control channel is spared, as DTLS never corrupts). */
    readonly corrupt: number;
  };
  /** Receiver: re-requests of a corrupted chunk; `undefined` = the default (3). */
  readonly maxCorruptRetries: number | undefined;
  /**
   * The cut, if any. `at` is a data-frame count at the receiver: the cut fires
   * when that many frames arrived. A quarter of the cuts are early (0: at the
   * receiver's `started`, before any data); the others fall after frame 1 and
   * below the fewest frames the file can take, so (but for frames delivered in
   * the same tick as a `link.fail()`, which acts on the next tick) before the
   * receiver has every chunk.
   */
  readonly cut: Cut | undefined;
  /**
   * One bit flipped in the payload of the `frame`-th data frame the sender sends
   * (0-based, below the fewest frames the file takes), at `at` (0-1) of the
   * payload, before the virtual channel: the header stays intact, so the
   * receiver's CRC-32 check names the chunk. `undefined`: none.
   */
  readonly flip: { readonly frame: number; readonly at: number; readonly bit: number } | undefined;
}

/** Lanes the sender uses: one per connection, at most one per channel. */
export const lanesOf = (c: Pick<TransferCase, 'connections' | 'channels'>): number => Math.min(c.connections, c.channels);

/** The largest chunk the case's policy allows (the defaults included). */
export const maxChunkOf = (c: Pick<TransferCase, 'chunk' | 'reliability'>): number =>
  c.chunk?.max ?? (c.reliability === 'unreliable' ? 64 * KiB : MAX_PAYLOAD);

/** The fewest data frames the file can take (every chunk at the maximum). */
export const minFramesOf = (c: Pick<TransferCase, 'chunk' | 'reliability' | 'size'>): number => Math.ceil(c.size / maxChunkOf(c));

const chunkSize = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(MIN_CHUNK_SIZE, MIN_CHUNK_SIZE + 1, 64 * KiB, MAX_PAYLOAD) },
  { weight: 2, arbitrary: fc.integer({ min: MIN_CHUNK_SIZE, max: MAX_PAYLOAD }) },
);

/** Defaults, one fixed size, or a range. */
const chunkPolicy = fc.oneof(
  fc.constant(undefined),
  chunkSize.map((s) => ({ min: s, max: s })),
  fc.tuple(chunkSize, chunkSize).map(([x, y]) => ({ min: Math.min(x, y), max: Math.max(x, y) })),
);

/** How the size is picked: an edge, small, anything, or next to a multiple of the largest chunk. */
type SizeSpec =
  | { readonly kind: 'exact'; readonly size: number }
  | { readonly kind: 'multiple'; readonly k: number; readonly delta: number };

const sizeSpec: fc.Arbitrary<SizeSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 16383, 16384, 16385).map((size) => ({ kind: 'exact' as const, size })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 * KiB }).map((size) => ({ kind: 'exact' as const, size })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: MAX_CASE_SIZE }).map((size) => ({ kind: 'exact' as const, size })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('multiple' as const), k: fc.integer({ min: 1, max: 8 }), delta: fc.integer({ min: -1, max: 1 }) }) },
);

/** 0 (one case in four), or a probability in thousandths up to `max` (integers: fast-check biases doubles to denormals). */
const probability = (max: number) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: Math.round(max * 1000) }).map((n) => n / 1000) });

const linkFaults = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fff_ffff }),
  bandwidth: fc.oneof({ weight: 3, arbitrary: fc.constant(Infinity) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 200 }).map((mb) => mb * 1_000_000) }),
  delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  jitterMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
  reorder: probability(0.2),
  duplicate: probability(0.1),
  lossRate: probability(0.1),
  corrupt: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 5, max: 50 }).map((n) => n / 1000) }),
});

/** Where the payload bit flip lands: which data frame the sender sends (a fraction of the fewest frames), which byte and bit. */
const flipSpec = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.record({ frame: fc.integer({ min: 0, max: 999 }), byte: fc.integer({ min: 0, max: 999 }), bit: fc.integer({ min: 0, max: 7 }) }) },
);

/** A fraction in [0, 1) in thousandths (fast-check biases doubles to their edges). */
const permille = fc.integer({ min: 0, max: 999 }).map((n) => n / 1000);

const cutSpec = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('close-channel' as const),
      channel: fc.nat(3),
      end: fc.constantFrom('sender' as const, 'receiver' as const),
      fraction: permille,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('fail-link' as const), lane: fc.nat(1), fraction: permille }),
  },
);

/** The arbitrary of {@link TransferCase}. Faults that a mode cannot have are zeroed, so shrinking never chases them. */
export const transferCase: fc.Arbitrary<TransferCase> = fc
  .record({
    size: sizeSpec,
    chunk: chunkPolicy,
    channels: fc.integer({ min: 1, max: 4 }),
    connections: fc.integer({ min: 1, max: 2 }),
    reliability: fc.constantFrom('reliable' as const, 'unreliable' as const),
    link: linkFaults,
    maxCorruptRetries: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
    cut: cutSpec,
    flip: flipSpec,
  })
  .map((r) => {
    const unreliable = r.reliability === 'unreliable';
    const maxChunk = maxChunkOf(r);
    const size =
      r.size.kind === 'exact' ? r.size.size : Math.max(0, Math.min(MAX_CASE_SIZE, r.size.k * maxChunk + r.size.delta));
    const lanes = lanesOf(r);
    const frames = minFramesOf({ ...r, size });
    // An early cut fires when the receiver starts (before any data); the others after frame 1 and before the
    // last of the fewest frames the file takes (a file of fewer than two frames gets none).
    const early = r.cut?.fraction !== undefined && r.cut.fraction < 0.25;
    const at = early ? 0 : 1 + Math.floor((((r.cut?.fraction ?? 0.25) - 0.25) / 0.75) * (frames - 1));
    let cut: Cut | undefined;
    if (!early && frames < 2) cut = undefined;
    else if (r.cut?.kind === 'close-channel') cut = { kind: 'close-channel', channel: r.cut.channel % r.channels, end: r.cut.end, at };
    else if (r.cut?.kind === 'fail-link') cut = { kind: 'fail-link', lane: r.cut.lane % lanes, at };
    // The flip hits one of the first frames sent (first transmissions come first), inside its payload.
    const flip = r.flip && frames > 0 ? { frame: Math.floor((r.flip.frame / 1000) * frames), at: r.flip.byte / 1000, bit: r.flip.bit } : undefined;
    return {
      ...r,
      size,
      link: { ...r.link, duplicate: unreliable ? r.link.duplicate : 0, lossRate: unreliable ? r.link.lossRate : 0 },
      cut,
      flip,
    };
  });
