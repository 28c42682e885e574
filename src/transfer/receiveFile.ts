/**
 * Receives one file over one or more peer connections: waits for an offer,
 * accepts it (or not), then runs the receive pipeline
 * `messages → decodeFrames → repairChunks → reorder → verifyHash → target`.
 */
import {
  asyncScheduler,
  concatWith,
  defer,
  filter,
  ignoreElements,
  map,
  merge,
  mergeMap,
  Observable,
  ReplaySubject,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import {
  asTallowError,
  ChannelClosedError,
  HashMismatchError,
  IdleTimeoutError,
  InvalidConfigError,
  LimitExceededError,
  ProtocolError,
  TransferCancelledError,
} from '../errors';
import { createSha256, type Sha256, type Sha256Factory } from '../hash/sha256';
import { decodeFrames } from '../operators/decodeFrames';
import { repairChunks } from '../operators/repairChunks';
import { reorder } from '../operators/reorder';
import { verifyHash } from '../operators/verifyHash';
import { type ControlMessage, type Manifest } from '../protocol/control';
import { fromChannelMessages } from '../sources/fromChannelMessages';
import type { Bytes, DataChannelLike, PeerConnectionLike } from '../types';
import { controlLink, type ControlLink } from './controlLink';
import { hashHeldPrefix, type HeldPrefix } from './hashHeldPrefix';
import { checkLegal, RECEIVER_TABLE, type ReceiverPhase } from './sessionTable';
import { settle } from './settle';
import { notifyFailure, remoteError } from './peerFailure';
import { blobTarget, type OpenedTarget, type ReceiveTarget } from './ReceiveTarget';
import { transferTelemetry } from './transferTelemetry';
import type { TransferEvent } from './TransferEvent';
import { withViews, type TransferObservable } from './TransferObservable';
import { closeAfterPeer, closeTransfer, createDataChannels, incomingControlChannels } from './transferChannels';

/** Limits a receiver enforces on what a peer may make it do. */
export interface ReceiveLimits {
  /** Largest file accepted, bytes. Default `Number.MAX_SAFE_INTEGER`. */
  readonly maxFileSize?: number;
  /** Most out-of-order chunks held while waiting for a gap to fill (the memory bound). Default 1024. */
  readonly maxBufferedChunks?: number;
  /** Most out-of-order bytes held. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
}

/** Options for {@link receiveFile}. */
export interface ReceiveOptions extends ReceiveLimits {
  /** Where the file goes. Default `blobTarget()` (in memory). */
  readonly target?: ReceiveTarget;
  /**
   * Decides whether to take an offer. Default: accept everything within the limits. An Observable's first
   * value decides (handy in virtual time, e.g. `timer(3000, scheduler).pipe(map(() => true))`).
   */
  readonly accept?: (manifest: Manifest) => boolean | Promise<boolean> | Observable<boolean>;
  /** Fail when nothing arrives for this long once data flows, ms. Default 30000. */
  readonly idleTimeout?: number;
  /** Unreliable mode: how long a gap waits before it is NACKed, ms. Default 100. */
  readonly nackDelay?: number;
  /** Re-requests of a corrupted chunk before failing. Default 3. */
  readonly maxCorruptRetries?: number;
  /** Malformed frames tolerated (dropped and re-requested) before the transfer fails with `FrameDecodeError`. Default 64. */
  readonly maxMalformedFrames?: number;
  /** Acknowledge every this many persisted bytes. Default 1 MiB, and at most a quarter of the sender's `window`. */
  readonly ackEvery?: number;
  readonly progressInterval?: number;
  readonly statsInterval?: number;
  readonly createHash?: Sha256Factory;
  readonly scheduler?: SchedulerLike;
}

const lanesOf = (c: PeerConnectionLike | readonly PeerConnectionLike[]): readonly PeerConnectionLike[] => (Array.isArray(c) ? c : [c as PeerConnectionLike]);

/**
 * Receives the next file the peer offers with {@link sendFile}. Cold: each
 * subscription receives one file; unsubscribing cancels on both sides.
 *
 * ```
 * events: --offer--started--progress--stats--…--completed|
 * ```
 *
 * ## Example
 * ```ts
 * import { receiveFile } from 'tallow-rx';
 * receiveFile(pc).subscribe((e) => e.type === 'completed' && download(e.result as Blob));
 * ```
 * @param connection one RTCPeerConnection, or several (lanes), in the same order as the sender's
 * @param options see {@link ReceiveOptions}
 * @return a cold Observable of {@link TransferEvent}, with `stats$` and `progress$` views of the same transfer
 */
export function receiveFile(connection: PeerConnectionLike | readonly PeerConnectionLike[], options: ReceiveOptions = {}): TransferObservable {
  return withViews(
    defer(() => {
      const lanes = lanesOf(connection);
      if (!lanes.length) throw new InvalidConfigError('receiveFile needs at least one peer connection');
      return runReceiver(lanes, options);
    }),
  );
}
function runReceiver(lanes: readonly PeerConnectionLike[], o: ReceiveOptions): Observable<TransferEvent> {
  return new Observable<TransferEvent>((subscriber) => {
    const sc = o.scheduler ?? asyncScheduler;
    const maxFileSize = o.maxFileSize ?? Number.MAX_SAFE_INTEGER;
    // The sender's control channel and its message stream, once it arrived.
    let control: DataChannelLike | undefined;
    let link: ControlLink | undefined;
    const send = (msg: ControlMessage): boolean => link?.send(msg) ?? false;
    const subs: Subscription[] = [];
    let data: DataChannelLike[] = [];
    let manifest: Manifest | undefined;
    let opened: OpenedTarget | undefined;
    let telemetry: ReturnType<typeof transferTelemetry> | undefined;
    // The running receive pipeline (replaced when the sender asks for a restart from 0).
    let pipeline: Subscription | undefined;
    // `done`'s chunk count and digest, for repairChunks/reorder and verifyHash.
    let end$ = new ReplaySubject<number>(1);
    let digest$ = new ReplaySubject<string>(1);
    // Waiting for an offer, deciding, opening the target, accepted (data may flow), ended.
    let phase: ReceiverPhase = 'listening';
    let doneSeen = false;
    // Bytes verified and persisted in this session, and where it started; idleness is no growth in them.
    let persisted = 0;
    let from = 0;
    let lastProgressAt = sc.now();
    // When data started to flow (reset at `accept`), for `completed.seconds`.
    let startedAt = sc.now();
    const finished = () => phase === 'ended';

    const cleanup = () => {
      phase = 'ended';
      telemetry?.stop();
      pipeline?.unsubscribe();
      for (const sub of subs) sub.unsubscribe();
      link?.dispose();
    };
    const fail = (err: unknown, notifyPeer: boolean) => {
      if (finished()) return;
      const e = asTallowError(err);
      const id = manifest?.id ?? (typeof e.details.id === 'number' ? e.details.id : undefined);
      const told = notifyPeer && id !== undefined;
      if (told) notifyFailure(link, id, e);
      cleanup();
      Promise.resolve(opened?.abort(e)).catch(() => undefined);
      closeTransfer([control, ...data], told && !(e instanceof ProtocolError), sc);
      subscriber.error(e);
    };

    /** Opens the target, creates the data channels (once), proves the held prefix and accepts. */
    const start = (m: Manifest, fresh: boolean) => {
      phase = 'opening';
      const target = o.target ?? blobTarget();
      subs.push(
        defer(() => settle(target.open(m)))
          .pipe(
            switchMap((t) => {
              opened = t;
              if (finished()) return settle(t.abort(new TransferCancelledError('local'))).pipe(ignoreElements());
              from = t.from;
              if (!(from >= 0 && from <= m.size)) throw new InvalidConfigError(`target resumes at ${from}, outside the file`, { from });
              if (fresh && from !== 0) throw new InvalidConfigError(`target resumes at ${from} after the sender asked to restart from 0`, { from });
              openChannels(m);
              return hashHeldPrefix(from, o.createHash ?? createSha256, () => readPrefix(t, from));
            }),
          )
          .subscribe({ next: (held) => accept(m, held), error: (err) => fail(err, true) }),
      );
    };
    /** Telemetry and the negotiated data channels, once per transfer (a restart keeps them). */
    const openChannels = (m: Manifest) => {
      if (telemetry) return;
      telemetry = transferTelemetry({ channels: [], lanes: m.lanes, total: m.size, scheduler: sc, statsInterval: o.statsInterval, progressInterval: o.progressInterval, pc: lanes[0] });
      subs.push(telemetry.events$.subscribe((e) => subscriber.next(e)));
      data = createDataChannels(lanes, m.channels, m.lanes, m.reliability, m.idBase);
      telemetry.setChannels(data);
    };
    /** Listeners are attached: now the sender may send. */
    const accept = (m: Manifest, held: HeldPrefix) => {
      if (finished()) return;
      pipeline = receivePipeline(m, held.hasher);
      phase = 'accepted';
      startedAt = sc.now();
      lastProgressAt = sc.now();
      watchIdle();
      pingWhileAccepted();
      send(from > 0 ? { t: 'accept', id: m.id, from, prefixSha256: held.prefixSha256! } : { t: 'accept', id: m.id, from });
      subscriber.next({ type: 'started', manifest: m, from });
    };

    /** `messages → decodeFrames → check bounds → repairChunks → reorder → verifyHash → target`. */
    const receivePipeline = (m: Manifest, hasher: Sha256): Subscription => {
      persisted = 0;
      // Acknowledge at least four times per window, so a sender never waits on its window for an ack.
      const ackEvery = Math.max(1, Math.min(o.ackEvery ?? 1024 * 1024, Math.floor(m.window / 4)));
      let lastAck = from;
      let receivedPayload = 0;
      // Chunks this side NACKed; once one of them is in, the next ack goes out at once, so that the sender
      // drops any NACK it postponed for that chunk instead of resending it (bounded by the reorder window).
      const nacked = new Set<number>();
      let nackedArrived = false;
      const ack = (force: boolean) => {
        const bytes = from + persisted;
        if (force || bytes - lastAck >= ackEvery) {
          lastAck = bytes;
          send({ t: 'ack', id: m.id, bytes, queued: Math.max(0, receivedPayload - persisted) });
        }
      };
      let malformedFrames = 0;
      const maxMalformed = o.maxMalformedFrames ?? 64;
      const window = o.maxBufferedChunks ?? 1024;
      // A data channel may close mid-transfer: the others carry on (lost frames are NACKed once `done`
      // is known). When every one has closed before the end, that is an error, not the end of the data;
      // after a grace of a second, since a sender that cancels closes its data channels right after its
      // `cancel`, which travels on another stream and can arrive after the resets.
      return merge(...data.map((ch) => fromChannelMessages(ch)))
        .pipe(
          concatWith(timer(1000, sc).pipe(mergeMap(() => throwError(() => new ChannelClosedError('every data channel closed before the transfer ended', { channels: data.length }))))),
          filter((msg): msg is Uint8Array => typeof msg !== 'string'),
          decodeFrames({
            transferId: m.id,
            // A corrupted header loses the frame's index: drop it and let the gap NACK bring it back.
            onMalformed: (err) => {
              if (++malformedFrames > maxMalformed) throw err;
            },
          }),
          tap((f) => checkFrameBounds(f, from, m)),
          repairChunks({
            nack: (chunks) => {
              for (const c of chunks) if (nacked.size < window) nacked.add(c);
              send({ t: 'nack', id: m.id, chunks });
            },
            detectGaps: m.reliability === 'unreliable',
            end: end$,
            nackDelay: o.nackDelay,
            window,
            maxCorruptRetries: o.maxCorruptRetries,
            scheduler: sc,
          }),
          reorder({ end: end$, window, maxBufferedBytes: o.maxBufferedBytes ?? 64 * 1024 * 1024 }),
          // Progress and throughput count each chunk once: reorder has dropped duplicates and retransmissions.
          tap((c) => {
            receivedPayload += c.data.length;
            if (nacked.delete(c.index)) nackedArrived = true;
            telemetry!.input({ kind: 'progress', bytes: c.data.length });
          }),
          // repairChunks checked every CRC-32 already; the SHA-256 still covers every byte.
          verifyHash({ expected: digest$, createHash: () => hasher, startOffset: from, checkChunks: false }),
          opened!.sink,
        )
        .subscribe({
          next: (bytes) => {
            if (bytes > persisted) lastProgressAt = sc.now();
            persisted = bytes;
            telemetry!.progress(from + persisted);
            ack(nackedArrived);
            nackedArrived = false;
          },
          error: (err) => fail(err, true),
          complete: () => finish(m, () => ack(true)),
        });
    };

    /** Every byte verified and persisted: finish the target, then `ack` and `complete`; close once the sender has. */
    const finish = (m: Manifest, finalAck: () => void) => {
      if (from + persisted !== m.size) {
        return fail(new ProtocolError(`the sender delivered ${from + persisted} B of the ${m.size} B it declared`, { received: from + persisted, size: m.size }), true);
      }
      subs.push(
        defer(() => settle(opened!.finish()))
          .pipe(switchMap((result) => digest$.pipe(take(1), map((sha256) => ({ result, sha256 })))))
          .subscribe({
            next: ({ result, sha256 }) => {
              if (finished()) return;
              finalAck();
              send({ t: 'complete', id: m.id, sha256 });
              telemetry!.progress(m.size);
              cleanup();
              subscriber.next({ type: 'completed', manifest: m, sha256, bytes: m.size, seconds: (sc.now() - startedAt) / 1000, result });
              // The sender closes when `complete` arrives; closing first could overtake it (see closeAfterPeer).
              closeAfterPeer([control, ...data], { scheduler: sc });
              subscriber.complete();
            },
            error: (err) => fail(err, true),
          }),
      );
    };

    /** `restart`: the sender's prefix differs from ours. Discard what we hold and accept again from 0. */
    const restart = (m: Manifest) => {
      if (from === 0) return fail(new ProtocolError('restart without a resumed prefix', { id: m.id }), true);
      pipeline?.unsubscribe();
      end$ = new ReplaySubject<number>(1);
      digest$ = new ReplaySubject<string>(1);
      const stale = opened!;
      phase = 'opening';
      subs.push(
        defer(() => settle(stale.abort(new HashMismatchError(-1, 'the sender\'s prefix', 'the held prefix', 'sha-256')))).subscribe({
          complete: () => start(m, true),
          error: (err) => fail(err, true),
        }),
      );
    };

    const onOffer = (msg: Extract<ControlMessage, { t: 'offer' }>) => {
      const { t: _t, v: _v, ...m } = msg;
      manifest = m;
      if (m.size > maxFileSize) {
        send({ t: 'reject', id: m.id, reason: `file of ${m.size} B exceeds the limit of ${maxFileSize} B` });
        return fail(new LimitExceededError('file size', m.size, maxFileSize), false);
      }
      if (m.lanes > lanes.length) {
        send({ t: 'reject', id: m.id, reason: `sender uses ${m.lanes} lanes, receiver has ${lanes.length}` });
        return fail(new InvalidConfigError(`sender uses ${m.lanes} lanes but only ${lanes.length} connections were given`), false);
      }
      phase = 'deciding';
      subscriber.next({ type: 'offer', manifest: m });
      subs.push(
        defer(() => settle(o.accept ? o.accept(m) : true)).pipe(take(1)).subscribe({
          next: (yes) => {
            if (finished()) return;
            if (yes) return start(m, false);
            send({ t: 'reject', id: m.id, reason: 'declined by receiver' });
            subscriber.next({ type: 'rejected', manifest: m, reason: 'declined by receiver' });
            cleanup();
            closeAfterPeer([control], { scheduler: sc });
            subscriber.complete();
          },
          error: (err) => fail(err, true),
        }),
      );
    };

    /** Dispatches a message the table allows in this phase; anything else is a ProtocolError. */
    const onControl = (msg: ControlMessage) => {
      if (finished()) return;
      if (manifest && 'id' in msg && msg.id !== manifest.id) return; // another transfer's
      try {
        checkLegal(RECEIVER_TABLE, 'receiver', phase, msg.t, manifest?.id);
      } catch (err) {
        return fail(err, true);
      }
      switch (msg.t) {
        case 'offer':
          return onOffer(msg);
        case 'ping':
          return void send({ t: 'pong', n: msg.n, ts: msg.ts });
        case 'pong':
          // Our own pings: the receiver measures RTT and jitter too.
          return telemetry?.appRtt(sc.now() - msg.ts);
        case 'done':
          return onDone(manifest!, msg);
        case 'restart':
          return restart(manifest!);
        case 'cancel':
          return fail(new TransferCancelledError('remote', msg.reason), false);
        case 'error':
          return fail(remoteError(msg.code, `sender failed: ${msg.message}`, msg.cause), false);
      }
    };

    // A `done` must come once, after `accept`, and fit the manifest: it sets how many chunks the receiver waits for (and NACKs).
    const onDone = (m: Manifest, msg: Extract<ControlMessage, { t: 'done' }>) => {
      if (doneSeen) return fail(new ProtocolError('a second done', { id: m.id }), true);
      const rest = m.size - from;
      const most = rest === 0 ? 0 : Math.ceil(rest / m.chunk.min) + 1;
      if (msg.bytes !== m.size || msg.chunks > most || (rest > 0 && msg.chunks === 0)) {
        return fail(new ProtocolError(`done announces ${msg.chunks} chunks / ${msg.bytes} B; the manifest allows at most ${most} chunks / ${m.size} B`, { chunks: msg.chunks, bytes: msg.bytes, most, size: m.size }), true);
      }
      doneSeen = true;
      end$.next(msg.chunks);
      digest$.next(msg.sha256);
    };

    // One transfer per subscription: take the first control channel the peer opens. If it dies before
    // an offer came on it (a sender retries a control channel that closed at birth), listen again.
    const listen = () => {
      const incoming = incomingControlChannels(lanes[0]).subscribe((ch) => {
        incoming.unsubscribe();
        control = ch;
        link = controlLink(ch);
        subs.push(
          link.messages$.subscribe({
            next: onControl,
            error: (err) => {
              if (!manifest && !finished() && err instanceof ChannelClosedError) {
                link?.dispose();
                link = undefined;
                control = undefined;
                listen();
                return;
              }
              // A malformed message is answered with an `error` before this side closes.
              fail(err, !(err instanceof ChannelClosedError));
            },
          }),
        );
      });
      subs.push(incoming);
    };
    listen();
    // Idleness is no verified progress once data flows: pings, duplicate frames and control messages do not
    // count. The check runs only while accepted, so a receiver waiting for an offer keeps no timer alive.
    const idle = o.idleTimeout ?? 30_000;
    let idleTimer: Subscription | undefined;
    // Application-level RTT on this side too: a ping every second while data may flow, answered by the sender.
    let pingN = 0;
    let pinging: Subscription | undefined;
    const pingWhileAccepted = () => {
      pinging?.unsubscribe();
      pinging = sc.schedule(function (this: SchedulerAction<unknown>) {
        if (finished() || phase !== 'accepted') return;
        send({ t: 'ping', n: pingN++ >>> 0, ts: sc.now() });
        this.schedule(undefined, 1000);
      }, 1000);
      subs.push(pinging);
    };
    const watchIdle = () => {
      idleTimer?.unsubscribe();
      idleTimer = sc.schedule(function (this: SchedulerAction<unknown>) {
        if (finished() || phase !== 'accepted') return;
        const quiet = sc.now() - lastProgressAt;
        if (quiet >= idle) {
          return fail(new IdleTimeoutError(idle, { side: 'receiver', measured: 'verified bytes', progress: from + persisted, total: manifest?.size }), true);
        }
        this.schedule(undefined, Math.min(idle - quiet, 1000));
      }, Math.min(idle, 1000));
      subs.push(idleTimer);
    };

    return () => {
      if (!finished()) {
        if (manifest) send({ t: 'cancel', id: manifest.id, reason: 'cancelled by receiver' });
        cleanup();
        Promise.resolve(opened?.abort(new TransferCancelledError('local'))).catch(() => undefined);
        closeTransfer([control, ...data], Boolean(manifest), sc);
      }
    };
  });
}

/**
 * A frame must lie inside `[from, size)` and carry at most `chunk.max` bytes: the manifest is a promise,
 * so maxFileSize holds on disk too.
 */
const checkFrameBounds = (f: { index: number; offset: number; data: Uint8Array }, from: number, m: Manifest): void => {
  const size = m.size;
  if (f.data.length > m.chunk.max) {
    throw new ProtocolError(`frame ${f.index} carries ${f.data.length} B, more than the manifest's chunk.max of ${m.chunk.max}`, { index: f.index, length: f.data.length, max: m.chunk.max });
  }
  if (f.offset < from || f.offset + f.data.length > size) {
    throw new ProtocolError(`frame ${f.index} covers bytes ${f.offset}..${f.offset + f.data.length}, outside the declared ${from}..${size}`, {
      index: f.index,
      offset: f.offset,
      length: f.data.length,
      size,
    });
  }
};

const readPrefix = (opened: OpenedTarget, from: number): Observable<Bytes> => {
  if (!opened.prefix) throw new InvalidConfigError('target resumes but cannot read its prefix', { from });
  return opened.prefix();
};

