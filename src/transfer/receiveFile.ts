/**
 * Receives one file over one or more peer connections: waits for an offer,
 * accepts it (or not), then runs the receive pipeline
 * `messages → decodeFrames → repairChunks → reorder → verifyHash → target`.
 */
import { asyncScheduler, concatWith, defer, filter, merge, Observable, ReplaySubject, tap, throwError, type SchedulerLike, type Subscription } from 'rxjs';
import {
  ChannelClosedError,
  IdleTimeoutError,
  InvalidConfigError,
  LimitExceededError,
  ProtocolError,
  TallowError,
  TransferCancelledError,
} from '../errors';
import { createSha256, type Sha256, type Sha256Factory } from '../hash/sha256';
import { decodeFrames } from '../operators/decodeFrames';
import { repairChunks } from '../operators/repairChunks';
import { reorder } from '../operators/reorder';
import { verifyHash } from '../operators/verifyHash';
import { type ControlMessage, type Manifest } from '../protocol/control';
import { fromChannelMessages } from '../sources/fromChannelMessages';
import type { DataChannelLike, PeerConnectionLike } from '../types';
import { controlLink, type ControlLink } from './controlLink';
import { blobTarget, type OpenedTarget, type ReceiveTarget } from './ReceiveTarget';
import { transferTelemetry } from './transferTelemetry';
import type { TransferEvent } from './TransferEvent';
import { withViews, type TransferObservable } from './TransferObservable';
import { closeSoon, createDataChannels, incomingControlChannels } from './transferChannels';

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
  /** Decides whether to take an offer. Default: accept everything within the limits. */
  readonly accept?: (manifest: Manifest) => boolean | Promise<boolean>;
  /** Fail when nothing arrives for this long once data flows, ms. Default 30000. */
  readonly idleTimeout?: number;
  /** Unreliable mode: how long a gap waits before it is NACKed, ms. Default 100. */
  readonly nackDelay?: number;
  /** Re-requests of a corrupted chunk before failing. Default 3. */
  readonly maxCorruptRetries?: number;
  /** Malformed frames tolerated (dropped and re-requested) before the transfer fails with `FrameDecodeError`. Default 64. */
  readonly maxMalformedFrames?: number;
  /** Acknowledge every this many persisted bytes. Default 1 MiB. */
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
    const scheduler = o.scheduler ?? asyncScheduler;
    const maxFileSize = o.maxFileSize ?? Number.MAX_SAFE_INTEGER;
    const ackEvery = o.ackEvery ?? 1024 * 1024;
    // The sender's control channel and its message stream, once it arrived.
    let control: DataChannelLike | undefined;
    let link: ControlLink | undefined;
    const send = (msg: ControlMessage): boolean => link?.send(msg) ?? false;
    const subs: Subscription[] = [];
    let data: ReturnType<typeof createDataChannels> = [];
    let manifest: Manifest | undefined;
    let opened: OpenedTarget | undefined;
    let telemetry: ReturnType<typeof transferTelemetry> | undefined;
    const end$ = new ReplaySubject<number>(1);
    const digest$ = new ReplaySubject<string>(1);
    let finished = false;
    let started = false;
    let lastHeard = scheduler.now();
    // When data started to flow (reset at `accept`), for `completed.seconds`.
    let startedAt = scheduler.now();

    const cleanup = () => {
      telemetry?.stop();
      for (const sub of subs) sub.unsubscribe();
      link?.dispose();
    };
    const fail = (err: unknown, notifyPeer: boolean) => {
      if (finished) return;
      finished = true;
      if (notifyPeer && manifest) {
        const e = err instanceof TallowError ? err : new TallowError('ERR_INTERNAL', String((err as any)?.message ?? err));
        if (e instanceof TransferCancelledError) send({ t: 'cancel', id: manifest.id, reason: String(e.details.reason) });
        else send({ t: 'error', id: manifest.id, code: e.code, message: e.message.slice(0, 1000) });
      }
      cleanup();
      Promise.resolve(opened?.abort(err)).catch(() => undefined);
      closeSoon([...data, control]);
      subscriber.error(err);
    };

    const prefixHasher = (from: number, factory: Sha256Factory) => async (): Promise<Sha256> => {
      const h = await factory();
      if (from > 0) {
        if (!opened?.prefix) throw new InvalidConfigError('target resumes but cannot read its prefix');
        await new Promise<void>((resolve, reject) => opened!.prefix!().subscribe({ next: (b) => h.update(b), error: reject, complete: resolve }));
      }
      return h;
    };

    const start = async (m: Manifest) => {
      const target = o.target ?? blobTarget();
      opened = await target.open(m);
      if (finished) {
        await opened.abort(new TransferCancelledError('local'));
        return;
      }
      const from = opened.from;
      if (!(from >= 0 && from <= m.size)) throw new InvalidConfigError(`target resumes at ${from}, outside the file`, { from });
      telemetry = transferTelemetry({
        channels: [],
        lanes: m.lanes,
        total: m.size,
        scheduler,
        statsInterval: o.statsInterval,
        progressInterval: o.progressInterval,
        pc: lanes[0],
      });
      subs.push(telemetry.events$.subscribe((e) => subscriber.next(e)));
      data = createDataChannels(lanes, m.channels, m.lanes, m.reliability, m.idBase);
      telemetry.setChannels(data);
      // Persisted bytes in this session, and the last acknowledged total.
      let persisted = 0;
      let lastAck = from;
      let receivedPayload = 0;
      // Frames dropped: for another transfer, or malformed (a peer that sends only garbage is cut off).
      let unknownFrames = 0;
      let malformedFrames = 0;
      const maxMalformed = o.maxMalformedFrames ?? 64;
      const ack = (force: boolean) => {
        const bytes = from + persisted;
        if (force || bytes - lastAck >= ackEvery) {
          lastAck = bytes;
          send({ t: 'ack', id: m.id, bytes, queued: Math.max(0, receivedPayload - persisted) });
        }
      };
      // A data channel may close mid-transfer: the others carry on (lost frames are NACKed once `done`
      // is known). When every one has closed before the end, that is an error, not the end of the data.
      const pipeline = merge(...data.map((ch) => fromChannelMessages(ch))).pipe(
        concatWith(throwError(() => new ChannelClosedError('every data channel closed before the transfer ended', { channels: data.length }))),
        filter((msg): msg is Uint8Array => typeof msg !== 'string'),
        decodeFrames({
          transferId: m.id,
          onUnknownTransfer: () => void unknownFrames++,
          // A corrupted header loses the frame's index: drop it and let the gap NACK bring it back.
          onMalformed: (err) => {
            if (++malformedFrames > maxMalformed) throw err;
          },
        }),
        tap((f) => {
          lastHeard = scheduler.now();
          // The manifest is a promise: nothing outside [from, size) is accepted, so maxFileSize holds on disk too.
          if (f.offset < from || f.offset + f.data.length > m.size) {
            throw new ProtocolError(`frame ${f.index} covers bytes ${f.offset}..${f.offset + f.data.length}, outside the declared ${from}..${m.size}`, {
              index: f.index,
              offset: f.offset,
              length: f.data.length,
              size: m.size,
            });
          }
        }),
        repairChunks({
          nack: (chunks) => send({ t: 'nack', id: m.id, chunks }),
          detectGaps: m.reliability === 'unreliable',
          end: end$,
          nackDelay: o.nackDelay,
          window: o.maxBufferedChunks ?? 1024,
          maxCorruptRetries: o.maxCorruptRetries,
          scheduler,
        }),
        reorder({ end: end$, window: o.maxBufferedChunks ?? 1024, maxBufferedBytes: o.maxBufferedBytes ?? 64 * 1024 * 1024 }),
        // Progress and throughput count each chunk once: reorder has dropped duplicates and retransmissions.
        tap((c) => {
          receivedPayload += c.data.length;
          telemetry!.input({ kind: 'progress', bytes: c.data.length });
        }),
        // repairChunks checked every CRC-32 already; the SHA-256 still covers every byte.
        verifyHash({ expected: digest$, createHash: prefixHasher(from, o.createHash ?? createSha256), startOffset: from, checkChunks: false }),
        opened.sink,
      );
      subs.push(
        pipeline.subscribe({
          next: (bytes) => {
            persisted = bytes;
            telemetry!.progress(from + persisted, from + persisted);
            ack(false);
          },
          error: (err) => fail(err, true),
          complete: () => {
            void (async () => {
              try {
                if (from + persisted !== m.size) {
                  throw new ProtocolError(`the sender delivered ${from + persisted} B of the ${m.size} B it declared`, { received: from + persisted, size: m.size });
                }
                const result = await opened!.finish();
                const sha256 = await firstValue(digest$);
                if (finished) return;
                finished = true;
                ack(true);
                send({ t: 'complete', id: m.id, sha256 });
                telemetry!.progress(m.size, m.size);
                telemetry!.stop();
                subscriber.next({ type: 'completed', manifest: m, sha256, bytes: m.size, seconds: (scheduler.now() - startedAt) / 1000, result });
                cleanup();
                // Let the `complete` message leave before the channels close.
                closeSoon([...data, control], 50);
                subscriber.complete();
              } catch (err) {
                fail(err, true);
              }
            })();
          },
        }),
      );
      // Listeners are attached: now the sender may send.
      started = true;
      startedAt = scheduler.now();
      lastHeard = scheduler.now();
      send({ t: 'accept', id: m.id, from });
      subscriber.next({ type: 'started', manifest: m, from });
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
      subscriber.next({ type: 'offer', manifest: m });
      Promise.resolve(o.accept ? o.accept(m) : true).then(
        (yes) => {
          if (finished) return;
          if (!yes) {
            finished = true;
            send({ t: 'reject', id: m.id, reason: 'declined by receiver' });
            subscriber.next({ type: 'rejected', manifest: m, reason: 'declined by receiver' });
            cleanup();
            closeSoon([control], 50);
            subscriber.complete();
            return;
          }
          return start(m);
        },
      ).catch((err) => fail(err, true));
    };

    const onControl = (msg: ControlMessage) => {
      if (finished) return;
      if (msg.t === 'ping') {
        send({ t: 'pong', n: msg.n, ts: msg.ts });
        return;
      }
      if (msg.t === 'offer') {
        if (manifest) return; // one transfer per subscription; a second offer is ignored
        return onOffer(msg);
      }
      if (!manifest || !('id' in msg) || msg.id !== manifest.id) return;
      // Pings prove the peer is alive, not that the transfer moves: only real messages reset the idle timer.
      lastHeard = scheduler.now();
      switch (msg.t) {
        case 'done': {
          // A `done` must fit the manifest: it sets how many chunks the receiver waits for (and NACKs).
          const rest = manifest.size - (opened?.from ?? 0);
          const most = rest === 0 ? 0 : Math.ceil(rest / manifest.chunk.min) + 1;
          if (msg.bytes !== manifest.size || msg.chunks > most || (rest > 0 && msg.chunks === 0)) {
            return fail(new ProtocolError(`done announces ${msg.chunks} chunks / ${msg.bytes} B; the manifest allows at most ${most} chunks / ${manifest.size} B`, { chunks: msg.chunks, bytes: msg.bytes, most, size: manifest.size }), true);
          }
          end$.next(msg.chunks);
          digest$.next(msg.sha256);
          return;
        }
        case 'cancel':
          return fail(new TransferCancelledError('remote', msg.reason), false);
        case 'error':
          return fail(remoteError(msg.code, `sender failed: ${msg.message}`), false);
        default:
          return;
      }
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
              if (!manifest && !finished && err instanceof ChannelClosedError) {
                link?.dispose();
                link = undefined;
                control = undefined;
                listen();
                return;
              }
              fail(err, false);
            },
          }),
        );
      });
      subs.push(incoming);
    };
    listen();
    const idle = o.idleTimeout ?? 30_000;
    subs.push(
      scheduler.schedule(function (this: any) {
        if (finished) return;
        const quiet = started ? scheduler.now() - lastHeard : 0;
        if (quiet >= idle) return fail(new IdleTimeoutError(idle, { side: 'receiver' }), true);
        this.schedule(undefined, Math.min(idle - quiet, 1000));
      }, Math.min(idle, 1000)),
    );

    return () => {
      if (!finished) {
        finished = true;
        if (manifest) send({ t: 'cancel', id: manifest.id, reason: 'cancelled by receiver' });
        cleanup();
        Promise.resolve(opened?.abort(new TransferCancelledError('local'))).catch(() => undefined);
        closeSoon([...data, control]);
      }
    };
  });
}

const firstValue = <T,>(o: Observable<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const sub = o.subscribe({
      next: (v) => {
        resolve(v);
        queueMicrotask(() => sub.unsubscribe());
      },
      error: reject,
    });
  });

/** A peer's `error` message as a local error: its code when it looks like ours, else `ERR_REMOTE`. */
export const remoteError = (code: string, message: string): TallowError =>
  new TallowError(/^ERR_[A-Z0-9_]{1,40}$/.test(code) ? code : 'ERR_REMOTE', message, { remote: true, remoteCode: code });
