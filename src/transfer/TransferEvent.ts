/** Events emitted by `sendFile` and `receiveFile`. */
import type { Manifest } from '../protocol/control';
import type { TransferStats } from '../stats/statsTypes';
import type { ResultField, SessionEvent } from './SessionEvent';

/** `R`: the receiver's `completed.result`, what its target produced (`Blob` by default). */
export type TransferEvent<R = unknown> =
  /** Receiver only: an offer arrived, before it is accepted. */
  | { readonly type: 'offer'; readonly manifest: Manifest }
  /** Both: the receiver accepted; data starts at byte `from` (> 0 when resuming). */
  | { readonly type: 'started'; readonly manifest: Manifest; readonly from: number }
  /**
   * Both, throttled. `bytes` (and `percent`) are confirmed bytes: on the sender, what the receiver acknowledged
   * as verified and persisted; on the receiver, what it verified and persisted. `acked` equals `bytes` (kept for
   * older code). `sent` (sender only) counts bytes handed to the channels, first transmissions only: it runs up
   * to a window ahead of `bytes`.
   */
  | { readonly type: 'progress'; readonly bytes: number; readonly total: number; readonly percent: number; readonly acked: number; readonly sent?: number }
  /** Both, once per sample interval. */
  | { readonly type: 'stats'; readonly stats: TransferStats }
  /** Both: `interrupted`, `resumed` (with `reconnect`) and `lane-lost` (sender), as a session reports them. */
  | Extract<SessionEvent, { type: 'interrupted' | 'resumed' | 'lane-lost' }>
  /** Receiver only: the receiver declined the offer. The stream completes after it. */
  | { readonly type: 'rejected'; readonly manifest: Manifest; readonly reason: string }
  /**
   * Both: the receiver answered the offer with `skip` for the file (it already holds it whole, or its app left
   * it out) and `accept`. Nothing was sent and nothing verified: there is no `started` or `completed`. The
   * stream completes after it.
   */
  | { readonly type: 'skipped'; readonly manifest: Manifest }
  /** Both: the receiver verified the whole-file SHA-256 and the sender saw it confirmed. */
  | ({
      readonly type: 'completed';
      readonly manifest: Manifest;
      readonly sha256: string;
      readonly bytes: number;
      /** From `accept` to completion (waiting for the user to accept is not counted). */
      readonly seconds: number;
      /** Sender: payload bytes sent again after a NACK (not counted in progress or throughput). */
      readonly retransmittedBytes?: number;
    } & ResultField<R>);

export type TransferEventType = TransferEvent['type'];
