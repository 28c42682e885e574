/**
 * The control channel as a message stream: parses every incoming message with
 * `parseControl` and sends typed messages. Listeners are attached at creation so
 * nothing that arrives before the first subscriber is lost.
 */
import { asyncScheduler, Observable, ReplaySubject, type SchedulerLike } from 'rxjs';
import { ChannelClosedError, ProtocolError } from '../errors';
import { encodeControl, parseControl, type ControlMessage } from '../protocol/control';
import type { DataChannelLike } from '../types';

export interface ControlLink {
  readonly channel: DataChannelLike;
  /** Parsed messages. Errors with `ProtocolError` on a malformed message, `ChannelClosedError` on close. */
  readonly messages$: Observable<ControlMessage>;
  /** Sends a message; returns false (and sends nothing) when the channel is not open. */
  send(msg: ControlMessage): boolean;
  /** Removes the listeners. */
  dispose(): void;
  /** The raw messages read so far, while recording (until {@link stopRecording}): to pass the channel on. */
  recorded(): readonly unknown[];
  /** Stops recording (the session is this side's: nothing will be passed on). */
  stopRecording(): void;
  /** Reads `raw` messages as if they had arrived, before any that arrive next (another receiver's, passed on). */
  feed(raw: readonly unknown[]): void;
}

/** Wraps an (opening or open) control channel; `record` keeps the raw messages until `stopRecording()`. */
export function controlLink(channel: DataChannelLike, options: { readonly record?: boolean } = {}): ControlLink {
  // Messages are replayed to late subscribers, bounded by what the protocol sends before data flows.
  const subject = new ReplaySubject<ControlMessage>(64);
  // The raw messages (with `record`: a receiver's), kept until the session is known to be this side's.
  let recording: unknown[] | undefined = options.record ? [] : undefined;
  const onMessage = (ev: { data: unknown }) => {
    if (subject.closed) return;
    recording?.push(ev.data);
    let msg: ControlMessage;
    try {
      msg = parseControl(ev.data);
    } catch (err) {
      subject.error(err instanceof ProtocolError ? err : new ProtocolError(String(err)));
      return;
    }
    subject.next(msg);
  };
  const onClose = () => {
    if (!subject.closed) subject.error(new ChannelClosedError('control channel closed', { label: channel.label }));
  };
  channel.addEventListener('message', onMessage);
  channel.addEventListener('close', onClose);
  const dispose = () => {
    channel.removeEventListener('message', onMessage);
    channel.removeEventListener('close', onClose);
  };
  return {
    channel,
    messages$: subject.asObservable(),
    send: (msg) => {
      if (channel.readyState !== 'open') return false;
      try {
        channel.send(encodeControl(msg));
        return true;
      } catch {
        return false;
      }
    },
    dispose,
    recorded: () => recording ?? [],
    stopRecording: () => void (recording = undefined),
    feed: (raw) => raw.forEach((data) => onMessage({ data })),
  };
}

/** Completes when the channel is open; errors if it closes first or `timeoutMs` passes (on `scheduler`). */
export function whenOpen(channel: DataChannelLike, timeoutMs = 15_000, scheduler: SchedulerLike = asyncScheduler): Observable<void> {
  return new Observable<void>((subscriber) => {
    if (channel.readyState === 'open') {
      subscriber.next();
      subscriber.complete();
      return;
    }
    if (channel.readyState === 'closing' || channel.readyState === 'closed') {
      subscriber.error(new ChannelClosedError(`channel ${channel.label} is ${channel.readyState}`, { label: channel.label, readyState: channel.readyState }));
      return;
    }
    const onOpen = () => {
      subscriber.next();
      subscriber.complete();
    };
    const onClose = () => subscriber.error(new ChannelClosedError(`channel ${channel.label} closed before it opened`, { label: channel.label }));
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
    const timer = scheduler.schedule(
      () => subscriber.error(new ChannelClosedError(`channel ${channel.label} did not open within ${timeoutMs} ms`, { label: channel.label, timeoutMs })),
      timeoutMs,
    );
    return () => {
      timer.unsubscribe();
      channel.removeEventListener('open', onOpen);
      channel.removeEventListener('close', onClose);
    };
  });
}
