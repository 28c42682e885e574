/**
 * The page side of one SHA-256 hasher in the hash worker: bytes are copied into a pooled buffer and posted
 * when it is full (or at the digest), so a transfer's many small updates become few 1 MiB messages.
 */
import type { Bytes } from '../types';
import type { HashWorkerRequest } from './hashWorkerProtocol';
import type { TransferPool } from './TransferPool';

/** What a hasher needs of its client. */
export interface BatchingSha256Context {
  readonly pool: TransferPool;
  post(message: HashWorkerRequest, transfer?: Transferable[]): void;
  /** Posts `digest` and resolves with the worker's answer (or its error). */
  ask(message: HashWorkerRequest): Promise<string>;
  /** Hands `parts` to the worker once: they update hasher `sha` and come back as their CRC-32s. */
  crc(parts: readonly Bytes[], sha: number): Promise<readonly number[]>;
  /** True once the worker failed: updates are dropped, the digest rejects. */
  broken(): boolean;
}

/** One hasher in the worker, id `id` (already opened). */
export class BatchingSha256 {
  // The buffer being filled, and how many bytes of it are filled.
  private buffer: ArrayBuffer | undefined;
  private filled = 0;

  constructor(
    private readonly id: number,
    private readonly ctx: BatchingSha256Context,
  ) {}

  update(data: Bytes): void {
    if (this.ctx.broken()) return;
    for (let at = 0; at < data.length; ) {
      const buffer = (this.buffer ??= this.ctx.pool.take());
      const n = Math.min(data.length - at, buffer.byteLength - this.filled);
      new Uint8Array(buffer, this.filled, n).set(data.subarray(at, at + n));
      this.filled += n;
      at += n;
      if (this.filled === buffer.byteLength) this.flush();
    }
  }

  /**
   * Hashes `parts` (after every byte given to `update` so far) and answers their CRC-32s: one copy and one
   * message for both hashes, where `update` and a separate CRC request would copy and post each byte twice.
   */
  crc32Batch(parts: readonly Bytes[]): Promise<readonly number[]> {
    this.flush();
    return this.ctx.crc(parts, this.id);
  }

  digestHex(): Promise<string> {
    this.flush();
    return this.ctx.ask({ t: 'digest', id: this.id });
  }

  /** Posts what is filled, transferring the buffer. */
  private flush(): void {
    const { buffer, filled } = this;
    this.buffer = undefined;
    this.filled = 0;
    if (!buffer || this.ctx.broken()) return;
    if (filled === 0) return this.ctx.pool.give(buffer);
    this.ctx.post({ t: 'update', id: this.id, data: new Uint8Array(buffer, 0, filled) }, [buffer]);
  }
}
