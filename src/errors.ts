/**
 * Typed errors. Every error the library raises is a `TallowError` with a stable
 * `name`, a machine-readable `code` and a `details` object. Codes are listed in
 * docs/errors.md and never change meaning.
 */

/** Details attached to an error: plain data, safe to log and serialise. */
export type ErrorDetails = Record<string, unknown>;

/** Every code a {@link TallowError} can have (docs/errors.md says when each is raised). */
export type TallowErrorCode =
  | 'ERR_CANCELLED'
  | 'ERR_CHANNEL_CLOSED'
  | 'ERR_CONNECTION_LOST'
  | 'ERR_CONNECT_FAILED'
  | 'ERR_FINGERPRINT_MALFORMED'
  | 'ERR_FINGERPRINT_MISSING'
  | 'ERR_FINGERPRINT_UNSUPPORTED'
  | FrameErrorCode
  | 'ERR_HASH_MISMATCH'
  | 'ERR_HASH_WORKER'
  | 'ERR_IDLE_TIMEOUT'
  | 'ERR_INTERNAL'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_LIMIT'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_PEER_DEPENDENCY'
  | 'ERR_PROTOCOL'
  | 'ERR_REJECTED'
  | 'ERR_REMOTE'
  | 'ERR_REORDER_GAP'
  | 'ERR_REORDER_OVERFLOW'
  | 'ERR_REORDER_TIMEOUT'
  | 'ERR_SINK_WRITE'
  | 'ERR_SOURCE_READ'
  | 'ERR_STATS_FAILED'
  | 'ERR_STATS_UNSUPPORTED'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_UNSAFE_NAME';

/** Base class of every error raised by tallow-rx. */
export class TallowError extends Error {
  override readonly name: string = 'TallowError';
  constructor(
    /**
     * Stable machine-readable code, e.g. `ERR_HASH_MISMATCH`: one of {@link TallowErrorCode} when tallow-rx
     * raised it; another `ERR_…` text only when a peer's `error` message carried a code of its own
     * (`details.remote` is then true), or your code made the error.
     */
    readonly code: TallowErrorCode | (string & {}),
    message: string,
    /** Structured context: indexes, sizes, limits. */
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A configuration value is out of range or inconsistent. */
export class InvalidConfigError extends TallowError {
  override readonly name = 'InvalidConfigError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('ERR_INVALID_CONFIG', message, details);
  }
}

/** Codes raised by the frame and control-message decoders. */
export type FrameErrorCode =
  | 'ERR_FRAME_TOO_SHORT'
  | 'ERR_FRAME_VERSION'
  | 'ERR_FRAME_TYPE'
  | 'ERR_FRAME_LENGTH'
  | 'ERR_FRAME_VALUE'
  | 'ERR_FRAME_HEADER'
  | 'ERR_FRAME_INPUT';

/** A frame could not be decoded (short, wrong version, inconsistent lengths, absurd values). */
export class FrameDecodeError extends TallowError {
  override readonly name = 'FrameDecodeError';
  constructor(code: FrameErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}

/** A control message (JSON on the control channel) is malformed or violates a limit. */
export class ProtocolError extends TallowError {
  override readonly name = 'ProtocolError';
  constructor(message: string, details: ErrorDetails = {}, code: 'ERR_PROTOCOL' | 'ERR_UNSAFE_NAME' = 'ERR_PROTOCOL') {
    super(code, message, details);
  }
}

/**
 * A checksum or digest did not match. `index` is the chunk index, or -1 for the
 * whole-file digest. `expected` and `actual` are hex strings.
 */
export class HashMismatchError extends TallowError {
  override readonly name = 'HashMismatchError';
  constructor(
    readonly index: number,
    readonly expected: string,
    readonly actual: string,
    readonly algorithm: 'crc32' | 'sha-256',
  ) {
    super(
      'ERR_HASH_MISMATCH',
      index < 0
        ? `file ${algorithm} mismatch: expected ${expected}, got ${actual}`
        : `chunk ${index} ${algorithm} mismatch: expected ${expected}, got ${actual}`,
      { index, expected, actual, algorithm },
    );
  }
}

/** A message is larger than the channel's maximum message size. Nothing was sent. */
export class MessageTooLargeError extends TallowError {
  override readonly name = 'MessageTooLargeError';
  constructor(size: number, maxMessageSize: number, label?: string) {
    super('ERR_MESSAGE_TOO_LARGE', `message of ${size} B exceeds max message size ${maxMessageSize} B`, {
      size,
      maxMessageSize,
      label,
    });
  }
}

/** Every channel a sender could use is closed, or a channel closed while it was needed. */
export class ChannelClosedError extends TallowError {
  override readonly name = 'ChannelClosedError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super('ERR_CHANNEL_CLOSED', message, details, cause === undefined ? undefined : { cause });
  }
}

/** `reorder()` could not restore order: a gap never filled, or the window overflowed. */
export class ReorderError extends TallowError {
  override readonly name = 'ReorderError';
  constructor(code: 'ERR_REORDER_GAP' | 'ERR_REORDER_OVERFLOW' | 'ERR_REORDER_TIMEOUT', message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}

/** Reading from a source failed. The original error is the `cause`. */
export class SourceReadError extends TallowError {
  override readonly name = 'SourceReadError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super('ERR_SOURCE_READ', message, details, { cause });
  }
}

/** Writing to a sink failed. The original error is the `cause`. */
export class SinkWriteError extends TallowError {
  override readonly name = 'SinkWriteError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super('ERR_SINK_WRITE', message, details, { cause });
  }
}

/** The transfer was cancelled, locally or by the peer. */
export class TransferCancelledError extends TallowError {
  override readonly name = 'TransferCancelledError';
  constructor(readonly by: 'local' | 'remote', reason = 'cancelled', details: ErrorDetails = {}) {
    super('ERR_CANCELLED', `transfer cancelled by ${by} peer: ${reason}`, { by, reason, ...details });
  }
}

/** Nothing happened for longer than the configured idle timeout. */
export class IdleTimeoutError extends TallowError {
  override readonly name = 'IdleTimeoutError';
  /**
   * @param timeoutMs the configured timeout
   * @param details context; `measured` names what counted as progress (e.g. "acknowledged bytes"), and
   *   `progress`/`total` where known, so the message says what stood still
   */
  constructor(timeoutMs: number, details: ErrorDetails = {}) {
    const what = typeof details.measured === 'string' ? ` in ${details.measured}` : '';
    const where = typeof details.progress === 'number' && typeof details.total === 'number' ? ` (${details.progress} of ${details.total} B)` : '';
    const side = typeof details.side === 'string' ? `${details.side}: ` : '';
    super('ERR_IDLE_TIMEOUT', `${side}no progress${what} for ${timeoutMs} ms${where}`, { timeoutMs, ...details });
  }
}

/**
 * Any thrown value as a documented error: a `TallowError` unchanged, anything else as
 * `TallowError('ERR_INTERNAL')` (a defect in tallow-rx or in a user-supplied callback) with the original as `cause`.
 */
export const asTallowError = (err: unknown): TallowError =>
  err instanceof TallowError ? err : new TallowError('ERR_INTERNAL', `unexpected error: ${String((err as any)?.message ?? err)}`, {}, { cause: err });

/**
 * Every lane died and the session did not go on within `interruptionGraceMs`: no new connection came from
 * `reconnect`, or (`details.unanswered`) new ones came but the peer never took the session up on them (a peer
 * without `reconnect`, or a receiver that completed just before the loss and so has ended its session).
 */
export class ConnectionLostError extends TallowError {
  override readonly name = 'ConnectionLostError';
  /**
   * @param graceMs how long the session waited for new connections
   * @param details context: `side`, `attempts` (connections tried), `unanswered` (new connections came, the peer
   *   did not answer on them), and `lost` (the error that interrupted it)
   * @param cause the error that interrupted the session
   */
  constructor(graceMs: number, details: ErrorDetails = {}, cause?: unknown) {
    const side = typeof details.side === 'string' ? `${details.side}: ` : '';
    const what = details.unanswered ? 'new connections came, but the peer did not take the session up on them' : 'no new one came';
    super('ERR_CONNECTION_LOST', `${side}the connection was lost and ${what} within ${graceMs} ms`, { graceMs, ...details }, cause === undefined ? undefined : { cause });
  }
}

/** A limit (file size, manifest size, buffered chunks, …) was exceeded. */
export class LimitExceededError extends TallowError {
  override readonly name = 'LimitExceededError';
  constructor(limit: string, value: number, max: number) {
    super('ERR_LIMIT', `${limit} ${value} exceeds the limit of ${max}`, { limit, value, max });
  }
}

/** The receiver rejected the offered transfer. */
export class TransferRejectedError extends TallowError {
  override readonly name = 'TransferRejectedError';
  constructor(reason: string) {
    super('ERR_REJECTED', `transfer rejected: ${reason}`, { reason });
  }
}
