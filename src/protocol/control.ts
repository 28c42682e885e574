/**
 * Control messages: small JSON objects on the reliable, ordered control channel.
 * `parseControl` is the only way in: it enforces the size limit, the shape of
 * every field and the protocol version, and throws a typed `ProtocolError`
 * (never anything else) for anything it does not accept. docs/protocol.md
 * describes each message.
 */
import { ProtocolError } from '../errors';

/**
 * Control-protocol version carried in `offer`. Version 3 made every transfer a session of files (`entry`,
 * `folder`, `skip`, `resume`, per-file `i`); version 2 added `offer.window`, `accept.prefixSha256`, `restart`
 * and `error.cause`, and dropped `done.first`.
 */
export const CONTROL_VERSION = 3;
/** Most files one offer may list (the receiver's own cap is usually lower). */
export const MAX_PROTOCOL_FILES = 0xffff_ffff;
/** Most files in flight at once (`offer.parallel`). */
export const MAX_PARALLEL = 64;
/** Largest control message accepted, in bytes (UTF-16 code units as received). */
export const MAX_CONTROL_MESSAGE = 64 * 1024;
/** Longest file name accepted in a manifest. */
export const MAX_NAME_LENGTH = 1024;
/** Most chunk indexes one `nack` may carry. */
export const MAX_NACK_ENTRIES = 4096;
/** Most data channels a transfer may use. */
export const MAX_CHANNELS = 16;
/** Most lanes a sender may open in band over one session's control channel (`offer.inband`, `accept.inband`): 16 lanes in all with the given connection. */
export const MAX_INBAND_LANES = 15;
/** Longest session description a `lane-offer`/`lane-answer` may carry, characters. */
export const MAX_LANE_SDP = 16 * 1024;
/** Longest ICE candidate line a `lane-candidate` may carry, characters. */
export const MAX_LANE_CANDIDATE = 1024;
/** Most `lane-candidate` messages one side may send for one lane. */
export const MAX_LANE_CANDIDATES = 64;
/** Largest file size the protocol can express exactly (2^53 - 1). */
export const MAX_PROTOCOL_FILE_SIZE = Number.MAX_SAFE_INTEGER;

/** Reliability of the data channels. */
export type Reliability = 'reliable' | 'unreliable';

/** The session settings every file of an offer shares. */
export interface SessionSettings {
  /** Data-channel count and reliability the sender will use. */
  readonly channels: number;
  readonly lanes: number;
  /** Negotiated id of data channel 0; channel i has id `idBase + i`. */
  readonly idBase: number;
  readonly reliability: Reliability;
  /** Chunk payload bounds the sender may use (the size adapts within them). */
  readonly chunk: { readonly min: number; readonly max: number };
  /** Whole-file digest algorithm. */
  readonly digest: 'sha-256';
  /**
   * Bytes the sender holds read but not acknowledged, at most, across the session: a receiver that does not
   * acknowledge persisted bytes at least every `window / 4` stalls the transfer.
   */
  readonly window: number;
  /** Most files started and not yet complete at once. */
  readonly parallel: number;
}

/** One file of an offer (an `entry` message). */
export interface FileEntry {
  /** Index of the file in its session, from 0. */
  readonly i: number;
  /** Relative path, '/'-separated. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** MIME type ('' when unknown). */
  readonly type: string;
  readonly lastModified?: number;
}

/**
 * One file as the API shows it: its entry, the session's settings, and `id`, the transfer id its frames
 * carry (`(session id + index) mod 2^32`).
 */
export interface Manifest extends SessionSettings {
  readonly id: number;
  /** The session's id (the offer's). */
  readonly session: number;
  /** Index of the file in its session, from 0. */
  readonly index: number;
  readonly name: string;
  readonly size: number;
  readonly type: string;
  readonly lastModified?: number;
}

/** The transfer id carried in the frames of file `index` of session `id`. */
export const frameIdOf = (id: number, index: number): number => (id + index) >>> 0;

export type ControlMessage =
  | ({
      readonly t: 'offer';
      readonly v: number;
      readonly id: number;
      readonly files: number;
      readonly folders: number;
      readonly bytes: number;
      /** Optional: the sender can open this many more connections in band (`lane-*` messages); absent or 0: none. */
      readonly inband?: number;
    } & SessionSettings)
  | ({ readonly t: 'entry'; readonly id: number } & FileEntry)
  | { readonly t: 'folder'; readonly id: number; readonly name: string }
  | { readonly t: 'skip'; readonly id: number; readonly i: number; readonly sha256?: string }
  | {
      readonly t: 'resume';
      readonly id: number;
      readonly i: number;
      /** Bytes the receiver already holds of file `i`, verified (0: after a restart). */
      readonly from: number;
      /** Lowercase hex SHA-256 of the bytes `[0, from)` the receiver holds; present exactly when `from > 0`. */
      readonly prefixSha256?: string;
    }
  | {
      readonly t: 'accept';
      readonly id: number;
      /** Optional, only in answer to `offer.inband`: how many in-band lanes the receiver takes (at most `offer.inband`); absent or 0: none. */
      readonly inband?: number;
    }
  | { readonly t: 'restart'; readonly id: number; readonly i: number }
  | { readonly t: 'reject'; readonly id: number; readonly reason: string }
  | { readonly t: 'ack'; readonly id: number; readonly i: number; /** Contiguous bytes persisted. */ readonly bytes: number; /** Receiver backlog in bytes. */ readonly queued: number }
  | { readonly t: 'nack'; readonly id: number; readonly i: number; readonly chunks: readonly number[] }
  | { readonly t: 'done'; readonly id: number; readonly i: number; /** This session's chunk count (indexes 0 … chunks-1). */ readonly chunks: number; readonly bytes: number; readonly sha256: string }
  | { readonly t: 'complete'; readonly id: number; readonly i: number; readonly sha256: string }
  | { readonly t: 'cancel'; readonly id: number; readonly reason: string }
  | {
      readonly t: 'error';
      readonly id: number;
      readonly code: string;
      readonly message: string;
      /** The underlying system error's code where there is one (`ENOSPC`, `EACCES`, …). */
      readonly cause?: string;
    }
  | { readonly t: 'lane-offer'; readonly id: number; /** In-band lane number, from 0. */ readonly lane: number; /** The session description (SDP). */ readonly sdp: string }
  | { readonly t: 'lane-answer'; readonly id: number; readonly lane: number; readonly sdp: string }
  | {
      readonly t: 'lane-candidate';
      readonly id: number;
      readonly lane: number;
      /** An ICE candidate line (`candidate:…`, no `a=` prefix). */
      readonly candidate: string;
      readonly mid?: string;
      readonly mline?: number;
    }
  | { readonly t: 'lane-close'; readonly id: number; readonly lane: number }
  | { readonly t: 'ping'; readonly n: number; readonly ts: number }
  | { readonly t: 'pong'; readonly n: number; readonly ts: number };

export type ControlType = ControlMessage['t'];

const fail = (message: string, details: Record<string, unknown> = {}): never => {
  throw new ProtocolError(message, details);
};

const U32 = 0x1_0000_0000;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const uint = (o: Record<string, unknown>, k: string, max = MAX_PROTOCOL_FILE_SIZE, min = 0): number => {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`field '${k}' must be an integer in [${min}, ${max}]`, { field: k, value: v });
  return v as number;
};
const str = (o: Record<string, unknown>, k: string, max: number): string => {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) fail(`field '${k}' must be a string of at most ${max} characters`, { field: k });
  return v as string;
};
const hex64 = (o: Record<string, unknown>, k: string): string => {
  const v = o[k];
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) fail(`field '${k}' must be 64 lowercase hex digits`, { field: k });
  return v as string;
};

/** The message's `id` when it is a valid one, so an error about the message can name its transfer. */
const idOf = (o: Record<string, unknown>): { id?: number } =>
  typeof o.id === 'number' && Number.isInteger(o.id) && o.id >= 0 && o.id < U32 ? { id: o.id } : {};

/** `offer.window`: at least two of the largest chunks (the sender must be able to have one in flight while another is acked). */
const windowOf = (o: Record<string, unknown>, maxChunk: number): number => {
  const w = uint(o, 'window');
  if (w < 2 * maxChunk) fail(`window ${w} is smaller than two chunks of ${maxChunk} B`, { window: w, maxChunk });
  return w;
};

/** Parses and validates one control message. Throws `ProtocolError` on anything malformed. */
export function parseControl(raw: unknown): ControlMessage {
  if (typeof raw !== 'string') return fail('control message must be a string', { type: typeof raw });
  if (raw.length > MAX_CONTROL_MESSAGE) return fail(`control message of ${raw.length} chars exceeds ${MAX_CONTROL_MESSAGE}`, { length: raw.length });
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return fail('control message is not JSON');
  }
  if (!isObj(o)) return fail('control message must be a JSON object');
  try {
    return parseObject(o);
  } catch (err) {
    // A message that breaks a rule but carries a valid `id` (an offer with a bad field, say): the error names
    // that id, so the side that got it can answer `error` to the session it belongs to.
    const { id } = idOf(o);
    if (!(err instanceof ProtocolError) || id === undefined || err.details.id !== undefined) throw err;
    throw new ProtocolError(err.message, { ...err.details, id });
  }
}

/** The checks of one parsed JSON object, by its `t`. */
function parseObject(o: Record<string, unknown>): ControlMessage {
  const t = o.t;
  switch (t) {
    case 'offer':
      return parseOffer(o);
    case 'entry': {
      const lastModified = o.lastModified === undefined ? undefined : uint(o, 'lastModified');
      const base = { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1), name: str(o, 'name', MAX_NAME_LENGTH), size: uint(o, 'size'), type: str(o, 'type', 255) } as const;
      return lastModified === undefined ? base : { ...base, lastModified };
    }
    case 'folder':
      return { t, id: uint(o, 'id', U32 - 1), name: str(o, 'name', MAX_NAME_LENGTH) };
    case 'skip': {
      const base = { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1) } as const;
      return o.sha256 === undefined ? base : { ...base, sha256: hex64(o, 'sha256') };
    }
    case 'restart':
      return { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1) };
    case 'resume': {
      const base = { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1), from: uint(o, 'from') } as const;
      return base.from === 0 ? base : { ...base, prefixSha256: hex64(o, 'prefixSha256') };
    }
    case 'accept': {
      const inband = o.inband === undefined ? undefined : uint(o, 'inband', MAX_INBAND_LANES);
      return inband === undefined ? { t, id: uint(o, 'id', U32 - 1) } : { t, id: uint(o, 'id', U32 - 1), inband };
    }
    case 'lane-offer':
    case 'lane-answer':
      return { t, id: uint(o, 'id', U32 - 1), lane: uint(o, 'lane', MAX_INBAND_LANES - 1), sdp: str(o, 'sdp', MAX_LANE_SDP) };
    case 'lane-candidate':
      return parseLaneCandidate(o);
    case 'lane-close':
      return { t, id: uint(o, 'id', U32 - 1), lane: uint(o, 'lane', MAX_INBAND_LANES - 1) };
    case 'reject':
      return { t, id: uint(o, 'id', U32 - 1), reason: str(o, 'reason', 1024) };
    case 'ack':
      return { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1), bytes: uint(o, 'bytes'), queued: uint(o, 'queued') };
    case 'nack': {
      const chunks = o.chunks;
      if (!Array.isArray(chunks) || chunks.length > MAX_NACK_ENTRIES) return fail(`field 'chunks' must be an array of at most ${MAX_NACK_ENTRIES} indexes`);
      for (const c of chunks) if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= U32) fail('nack entries must be chunk indexes', { entry: c });
      return { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1), chunks: chunks as number[] };
    }
    case 'done':
      return { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1), chunks: uint(o, 'chunks', U32), bytes: uint(o, 'bytes'), sha256: hex64(o, 'sha256') };
    case 'complete':
      return { t, id: uint(o, 'id', U32 - 1), i: uint(o, 'i', U32 - 1), sha256: hex64(o, 'sha256') };
    case 'cancel':
      return { t, id: uint(o, 'id', U32 - 1), reason: str(o, 'reason', 1024) };
    case 'error': {
      const base = { t, id: uint(o, 'id', U32 - 1), code: str(o, 'code', 64), message: str(o, 'message', 1024) } as const;
      const cause = o.cause === undefined ? undefined : str(o, 'cause', 64);
      return cause === undefined ? base : { ...base, cause };
    }
    case 'ping':
    case 'pong':
      return { t, n: uint(o, 'n', U32 - 1), ts: typeof o.ts === 'number' && Number.isFinite(o.ts) ? o.ts : fail("field 'ts' must be a finite number") };
    default:
      // Describe the type without serialising it: a hostile `t` may be nested thousands deep.
      return fail(`unknown control message type ${typeof t === 'string' ? JSON.stringify(t.slice(0, 32)) : typeof t}`, { t: typeof t === 'string' ? t.slice(0, 32) : typeof t });
  }
}

/** The `offer`: the version first (an old peer gets a clear error), then the session's settings. */
function parseOffer(o: Record<string, unknown>): ControlMessage {
  const v = uint(o, 'v', 255);
  if (v !== CONTROL_VERSION) fail(`unsupported control version ${v}: this peer speaks version ${CONTROL_VERSION}`, { v, supported: CONTROL_VERSION, ...idOf(o) });
  const chunk = o.chunk;
  if (!isObj(chunk)) return fail("field 'chunk' must be an object");
  const min = uint(chunk, 'min', 1 << 30);
  const max = uint(chunk, 'max', 1 << 30);
  if (min < 1 || max < min) fail('chunk bounds are inconsistent', { min, max });
  const reliability = o.reliability;
  if (reliability !== 'reliable' && reliability !== 'unreliable') fail("field 'reliability' must be 'reliable' or 'unreliable'");
  if (o.digest !== 'sha-256') fail("field 'digest' must be 'sha-256'");
  const channels = uint(o, 'channels', MAX_CHANNELS, 1);
  const lanes = uint(o, 'lanes', MAX_CHANNELS, 1);
  if (lanes > channels) fail('channel and lane counts are inconsistent', { channels, lanes });
  const idBase = uint(o, 'idBase', 1023);
  if (idBase + channels - 1 > 1023) fail('data-channel ids exceed 1023', { idBase, channels });
  const parallel = uint(o, 'parallel', MAX_PARALLEL, 1);
  const inband = o.inband === undefined ? undefined : uint(o, 'inband', MAX_INBAND_LANES);
  return {
    t: 'offer',
    v,
    ...(inband === undefined ? {} : { inband }),
    id: uint(o, 'id', U32 - 1),
    files: uint(o, 'files', MAX_PROTOCOL_FILES),
    folders: uint(o, 'folders', MAX_PROTOCOL_FILES),
    bytes: uint(o, 'bytes'),
    channels,
    lanes,
    idBase,
    reliability: reliability as Reliability,
    chunk: { min, max },
    digest: 'sha-256',
    window: windowOf(o, max),
    parallel,
  };
}

/** A `lane-candidate`: the candidate line, and its media id / m-line index when present. */
function parseLaneCandidate(o: Record<string, unknown>): ControlMessage {
  const candidate = str(o, 'candidate', MAX_LANE_CANDIDATE);
  const mid = o.mid === undefined ? undefined : str(o, 'mid', 64);
  const mline = o.mline === undefined ? undefined : uint(o, 'mline', 255);
  return {
    t: 'lane-candidate',
    id: uint(o, 'id', U32 - 1),
    lane: uint(o, 'lane', MAX_INBAND_LANES - 1),
    candidate,
    ...(mid === undefined ? {} : { mid }),
    ...(mline === undefined ? {} : { mline }),
  };
}

/** Serialises a control message. */
export const encodeControl = (msg: ControlMessage): string => JSON.stringify(msg);
