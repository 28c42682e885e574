/**
 * Byte pumps for harness specs: send a buffer with backpressure, collect N bytes.
 * Environment-neutral (also bundled into the Chromium page). Not library code.
 *
 * Gotchas:
 * - node-datachannel's polyfill: `send(DataView)` delivers 0 bytes; we only send `Uint8Array`s.
 * - `bufferedamountlow` sometimes never fires after the buffer drains (polyfill, under
 *   load), so every wait also polls `bufferedAmount`.
 * - Chromium throws `OperationError` when a send would take the queue past 16 MiB and
 *   `TypeError` above 256 KiB per message; the defaults stay far below both.
 */

/** Options of {@link sendBytes}. */
export interface SendBytesConfig {
  /** Message size. Default 64 KiB. */
  readonly chunkSize?: number;
  /** Stop sending above this many buffered bytes. Default 4 MiB. */
  readonly highWater?: number;
  /** Resume at or below this many buffered bytes (`bufferedAmountLowThreshold`). Default 1 MiB. */
  readonly lowWater?: number;
  /** Fallback poll of `bufferedAmount` while parked, in ms. Default 20. */
  readonly pollMs?: number;
}

/** Deterministic pseudo-random bytes (xorshift32), so both ends can compute the expected data. */
export function patternBytes(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, length >>> 2);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < length; i++) out[i] = i & 0xff;
  return out;
}

/** Resolves once `channel.bufferedAmount <= lowWater`, via `bufferedamountlow` or the poll. */
function drained(channel: RTCDataChannel, lowWater: number, pollMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (channel.readyState !== 'open') finish(new Error(`channel ${channel.label} ${channel.readyState} while sending`));
      else if (channel.bufferedAmount <= lowWater) finish();
    };
    const finish = (error?: Error): void => {
      clearInterval(timer);
      channel.removeEventListener('bufferedamountlow', check);
      channel.removeEventListener('close', check);
      if (error) reject(error);
      else resolve();
    };
    const timer = setInterval(check, pollMs);
    channel.addEventListener('bufferedamountlow', check);
    channel.addEventListener('close', check);
  });
}

/** Sends all of `data` over `channel` in `chunkSize` messages with backpressure; resolves when queued. */
export async function sendBytes(channel: RTCDataChannel, data: Uint8Array<ArrayBuffer>, config: SendBytesConfig = {}): Promise<number> {
  const { chunkSize = 64 * 1024, highWater = 4 * 1024 * 1024, lowWater = 1024 * 1024, pollMs = 20 } = config;
  channel.bufferedAmountLowThreshold = lowWater;
  let offset = 0;
  while (offset < data.length) {
    if (channel.bufferedAmount > highWater) await drained(channel, lowWater, pollMs);
    const end = Math.min(offset + chunkSize, data.length);
    channel.send(data.subarray(offset, end));
    offset = end;
  }
  return offset;
}

/**
 * Collects exactly `total` bytes from `channel` (attach before the sender starts).
 *
 * Rejects if the channel closes early, more than `total` bytes arrive, or after `timeoutMs`.
 */
export function receiveBytes(channel: RTCDataChannel, total: number, timeoutMs = 60_000): Promise<Uint8Array<ArrayBuffer>> {
  channel.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const out = new Uint8Array(total);
    let received = 0;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      channel.removeEventListener('message', onMessage);
      channel.removeEventListener('close', onClose);
      if (error) reject(error);
      else resolve(out);
    };
    const onMessage = (event: MessageEvent): void => {
      const bytes = typeof event.data === 'string' ? new TextEncoder().encode(event.data) : new Uint8Array(event.data as ArrayBuffer);
      if (received + bytes.length > total) return finish(new Error(`received more than ${total} bytes`));
      out.set(bytes, received);
      received += bytes.length;
      if (received === total) finish();
    };
    const onClose = (): void => finish(new Error(`channel ${channel.label} closed after ${received} of ${total} bytes`));
    const timer = setTimeout(() => finish(new Error(`received ${received} of ${total} bytes in ${timeoutMs} ms`)), timeoutMs);
    channel.addEventListener('message', onMessage);
    channel.addEventListener('close', onClose);
  });
}
