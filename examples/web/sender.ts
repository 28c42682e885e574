/**
 * The Send panel's transfers: one `sendFiles` session at a time, shown in a transfer view
 * (overall progress, the people line, details) and a queue (a bar per file).
 *
 * ```
 * send(set) → offer → started (accept) → progress / file-progress / file-completed … → completed
 *             "Offered …"  "Sending 3 files…"                                           summary "Done: 3 files, 21.0 MB in 1.9 s (11.1 MB/s on average)."
 * cancel()  → unsubscribe: the receiver sees "Cancelled by the sender."; summary "Stopped after …"
 * drop(why) → the other device left: summary "The other device left after …"
 * ```
 */
import { Subscription } from 'rxjs';
import { sendFiles, type FileSet, type ProfileName, type SessionEvent, type SessionObservable } from '../../src/index';
import { formatSize } from './format';
import type { TransferSummary } from './peopleStats';
import type { QueueView } from './queueView';
import type { TransferView } from './transferView';
import { failureOutcome } from './view';

/** Stats sample period, ms: four updates a second. */
export const STATS_INTERVAL_MS = 250;

/**
 * First channel id of this page's sessions, by role, rotating through {@link ID_BLOCKS} blocks of
 * 16 ids: a new session never reuses the ids of the one before on the same connections (seen: the
 * second session's offer never reached the other page when the library picked the ids itself).
 */
export const ID_BASE = { offerer: 512, answerer: 768 } as const;
export const ID_BLOCKS = 8;

/** Where a session's running figures are kept for its summary. */
export interface Tally {
  startedAtMs?: number;
  bytes: number;
  total: number;
  files: { completed: number; total: number };
}

/** The summary of a session that ended with `outcome` at `nowMs`. */
export const summaryOf = (tally: Tally, outcome: TransferSummary['outcome'], nowMs: number): TransferSummary => ({
  outcome,
  bytes: tally.bytes,
  total: tally.total,
  seconds: tally.startedAtMs === undefined ? undefined : (nowMs - tally.startedAtMs) / 1000,
  files: tally.files,
});

/** Feeds one session event into a view, a queue and a tally (shared by both sides). Returns true for `started`. */
export function showSessionEvent(ev: SessionEvent, view: TransferView, queue: QueueView, tally: Tally, nowMs: number): boolean {
  switch (ev.type) {
    case 'started':
      tally.startedAtMs = nowMs;
      tally.total = ev.bytes;
      tally.files = { completed: 0, total: ev.files.length };
      view.begin(nowMs, ev.from);
      queue.setFiles(ev.files);
      return true;
    case 'progress':
      tally.bytes = ev.bytes;
      tally.total = ev.total;
      tally.files = { ...ev.files };
      view.showProgress(ev);
      return false;
    case 'file-progress':
      queue.progress(ev.manifest.index, ev.bytes, ev.total);
      return false;
    default:
      return false;
  }
}

/** The Send panel's state and actions. */
export interface Sender {
  /** Offers `set` over `lanes`; ignored while a session runs. */
  send(lanes: readonly RTCPeerConnection[], set: FileSet, profile: ProfileName | 'auto', role: 'offerer' | 'answerer'): void;
  /** Ends the running session as "the other device left" (or another reason); it is offered again by `resumeInterrupted`. */
  drop(reason: string): void;
  /** Offers the session `drop` ended again (the other device is back, e.g. after a reload); the receiver continues from what it kept. */
  resumeInterrupted(lanes: readonly RTCPeerConnection[], role: 'offerer' | 'answerer'): boolean;
  readonly busy: boolean;
}

/** Creates the Send panel's controller; `changed` runs whenever `busy` flips. */
export function createSender(view: TransferView, queue: QueueView, changed: () => void): Sender {
  // The running session, and its figures for the summary.
  let running: Subscription | undefined;
  // The status line of a session that reported `completed`, shown once its stream completes.
  let completedText: string | undefined;
  // The session running (or last run), and one the other device's leaving cut short.
  let current: { set: FileSet; profile: ProfileName | 'auto' } | undefined;
  let interrupted: typeof current;
  // Sessions started, for the channel-id rotation.
  let sessions = 0;
  let tally: Tally = { bytes: 0, total: 0, files: { completed: 0, total: 0 } };
  const end = (outcome: TransferSummary['outcome'], state: Parameters<TransferView['setState']>[0], text: string): void => {
    running?.unsubscribe();
    running = undefined;
    view.setState(state, text);
    if (outcome !== 'completed') queue.stop();
    view.showSummary(summaryOf(tally, outcome, Date.now()));
    view.cancelButton.disabled = true;
    changed();
  };
  view.cancelButton.addEventListener('click', () => running && end('cancelled', 'cancelled', 'Cancelled.'));

  const onEvent = (ev: SessionEvent, set: FileSet): void => {
    if (showSessionEvent(ev, view, queue, tally, Date.now())) {
      view.setState('active', `Sending ${ev.type === 'started' && ev.files.length > 1 ? `${ev.files.length} files` : (set.files[0]?.name ?? 'folders')}…`);
    } else if (ev.type === 'file-completed') queue.done(ev.manifest.index);
    else if (ev.type === 'completed') {
      tally.bytes = ev.bytes;
      tally.files = { completed: ev.files.length, total: ev.files.length };
      view.showProgress({ bytes: ev.bytes, total: ev.bytes, percent: 100 });
      const what = ev.files.length === 1 ? `${ev.files[0].manifest.name} (${formatSize(ev.bytes)})` : `${ev.files.length} files (${formatSize(ev.bytes)})`;
      const sha = ev.files.length === 1 ? ` SHA-256 ${ev.files[0].sha256}` : ' every SHA-256';
      // Shown when the stream completes: unsubscribing at this event would cut the session's last
      // exchange, and the receiver would never complete (its next offer then never arrives).
      completedText = `Sent ${what}; the receiver confirmed${sha}.`;
    }
  };

  return {
    get busy() {
      return running !== undefined;
    },
    send(lanes, set, profile, role) {
      if (running || !lanes.length) return;
      current = { set, profile };
      completedText = undefined;
      const channelIdBase = ID_BASE[role] + (sessions++ % ID_BLOCKS) * 16;
      const session$: SessionObservable = sendFiles(lanes, set, { profile, channelIdBase, sampleIntervalMs: STATS_INTERVAL_MS });
      tally = { bytes: 0, total: set.files.reduce((s, f) => s + f.size, 0), files: { completed: 0, total: set.files.length } };
      const name = set.files.length === 1 ? set.files[0].name : `${set.files.length} files`;
      view.reset(`${name} (${formatSize(tally.total)})`);
      queue.setFiles(set.files.map((f, index) => ({ index, name: f.name, size: f.size })));
      view.setState('offer', `Offered ${name}; waiting for the other device to accept…`);
      view.cancelButton.disabled = false;
      // A container: the stats subscriber closes on completion and would unsubscribe the events before their `complete`.
      running = new Subscription();
      running.add(session$.stats$.subscribe({ next: (s) => view.showStats(s), error: () => undefined }));
      running.add(
        session$.subscribe({
          next: (ev) => onEvent(ev, set),
          complete: () => end('completed', 'completed', completedText ?? 'Sent.'),
          error: (err) => {
            // A lost connection (the other page reloaded or went away) is offered again when it is back.
            if ((err as Error)?.name === 'ChannelClosedError' || (err as Error)?.name === 'ConnectionLostError') interrupted = current;
            const outcome = failureOutcome(err, 'sender');
            end(outcome.state === 'declined' ? 'declined' : outcome.state === 'cancelled' ? 'cancelled' : 'failed', outcome.state, outcome.text);
          },
        }),
      );
      changed();
    },
    drop(reason) {
      if (!running) return;
      interrupted = current;
      end('peer-left', 'failed', reason);
    },
    resumeInterrupted(lanes, role) {
      const again = interrupted;
      interrupted = undefined;
      if (!again || running) return false;
      this.send(lanes, again.set, again.profile, role);
      view.setState('offer', 'The other device is back: offered the interrupted files again; it continues from what it kept…');
      return true;
    },
  };
}
