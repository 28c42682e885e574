/**
 * Validation of the `start` offset shared by every resumable source (internal).
 */
import { InvalidConfigError } from '../errors';

/** Options for sources that can resume part-way through their input. */
export interface StartConfig {
  /**
   * Byte offset of the first byte to emit, for resuming a transfer. Bytes before
   * it are skipped (seeked past where the input allows it, read and dropped
   * where it does not). Past the end, the source completes empty. Default `0`.
   */
  readonly start?: number;
}

/** Returns `config.start` (default 0), or throws `InvalidConfigError` unless it is a safe integer >= 0. */
export function startOffset(config: StartConfig, source: string): number {
  const start = config.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new InvalidConfigError(`${source}: start must be an integer >= 0, got ${start}`, { start });
  }
  return start;
}
