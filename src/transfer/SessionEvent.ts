/** Events emitted by `sendFiles` and `receiveFiles` (a session of files). `sendFile`/`receiveFile` emit {@link TransferEvent}. */
import type { Manifest } from '../protocol/control';
import type { TransferStats } from '../stats/statsTypes';

/** What a session offers: its files (in order) and the folders to create. */
export interface SessionOffer {
  /** The session's id. */
  readonly id: number;
  readonly files: readonly Manifest[];
  readonly folders: readonly string[];
  /** Sum of the files' sizes, bytes. */
  readonly bytes: number;
}

/**
 * The `result` field of a completed file: what the receiver's target produced for it (a Blob, a path, …).
 * Required where `R` says what it is (`Blob` from `receiveFile(pc)`, `string` with `directoryTarget`); optional
 * where `R` admits `undefined`: the sender's events (`R` is `unknown`, and a sender has no result) and a target
 * whose `finish` gives nothing.
 */
export type ResultField<R> = undefined extends R ? { readonly result?: R } : { readonly result: R };

/** One file that arrived whole and verified. */
export type FileResult<R = unknown> = {
  readonly manifest: Manifest;
  /** Lowercase hex SHA-256 of the whole file, as both sides computed it. */
  readonly sha256: string;
} & ResultField<R>;

/** `R`: the receiver's `file-completed.result` and `completed.files[].result`, what its target produced. */
export type SessionEvent<R = unknown> =
  /** Receiver only: an offer and its whole file list arrived, before it is accepted. */
  | { readonly type: 'offer'; readonly offer: SessionOffer }
  /** Both: the receiver accepted. `files` are the files taken (skipped ones are left out), `from` the bytes already held (resume). */
  | { readonly type: 'started'; readonly offer: SessionOffer; readonly files: readonly Manifest[]; readonly bytes: number; readonly from: number }
  /**
   * Both: a file starts (sender: its data starts, after a resumed prefix was checked; receiver: its turn came, at
   * `accept` for the first `parallel` files, then as each earlier file completes). `from` > 0 when it resumes;
   * after a restart, the file starts again from 0.
   */
  | { readonly type: 'file-started'; readonly manifest: Manifest; readonly from: number }
  /**
   * Both, throttled: the whole session. `bytes` (and `percent`) are confirmed bytes of the taken files (sender:
   * acknowledged; receiver: verified and persisted); `sent` (sender) what went to the channels; `files` how many
   * taken files are complete.
   */
  | {
      readonly type: 'progress';
      readonly bytes: number;
      readonly total: number;
      readonly percent: number;
      readonly acked: number;
      readonly sent?: number;
      readonly files: { readonly completed: number; readonly total: number };
    }
  /** Both, throttled like `progress`, for each file in flight: its confirmed bytes. */
  | { readonly type: 'file-progress'; readonly manifest: Manifest; readonly bytes: number; readonly total: number; readonly percent: number }
  /** Both, once per sample interval: the session's stats. */
  | { readonly type: 'stats'; readonly stats: TransferStats }
  /** Both: one file verified whole and persisted (sender: the receiver confirmed it). */
  | ({
      readonly type: 'file-completed';
      readonly manifest: Manifest;
      readonly sha256: string;
      readonly bytes: number;
      /** From the file's start to its completion. */
      readonly seconds: number;
      /** Sender: this file's payload bytes sent again after a NACK. */
      readonly retransmittedBytes?: number;
    } & ResultField<R>)
  /**
   * Both, with `reconnect`: every lane died (`reason`, `code`: the error that would have ended the session). The
   * session waits up to `interruptionGraceMs` for new connections; `attempt` counts from 0.
   */
  | { readonly type: 'interrupted'; readonly reason: string; readonly code: string; readonly attempt: number }
  /**
   * Sender: every data channel of lane `lane` (a peer connection) closed while other lanes still carry the
   * transfer; it goes on over the `lanesLeft` others (what was in flight on the lost lane is sent again on them).
   */
  | { readonly type: 'lane-lost'; readonly lane: number; readonly lanesLeft: number }
  /** Both: new connections came; the session goes on from what the receiver verified. */
  | { readonly type: 'resumed'; readonly attempt: number }
  /** Receiver only: the receiver declined the offer. The stream completes after it. */
  | { readonly type: 'rejected'; readonly offer: SessionOffer; readonly reason: string }
  /** Both: every taken file is complete. The stream completes after it. */
  | {
      readonly type: 'completed';
      readonly files: readonly FileResult<R>[];
      /** Bytes of the taken files (resumed prefixes included). */
      readonly bytes: number;
      /** From `accept` to the end. */
      readonly seconds: number;
      /** Sender: payload bytes sent again after a NACK, all files. */
      readonly retransmittedBytes?: number;
    };

export type SessionEventType = SessionEvent['type'];
