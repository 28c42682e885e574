/**
 * The Receive panel: always listening with `receiveFiles` on the current lanes, so the other
 * device's offer always finds a listener, and listening again after every session ends.
 *
 * ```
 * listen(lanes) → offer: the prompt at the top of the page, the tab title, a notification
 *               → Accept: storage prepared (prepareSession), `true` → started … file-completed (a link or a snippet per row) … completed
 *               → Decline: `false` → rejected
 *               → listen(lanes) again
 * ```
 */
import { Subscription } from 'rxjs';
import { receiveFiles, type AcceptDecision, type Manifest, type ReceiveTarget, type SessionOffer } from '../../src/index';
import type { Attention } from './attention';
import { formatSize } from './format';
import { isSnippet } from './picker';
import type { QueueView } from './queueView';
import { opfsResumableTarget } from './opfsResumable';
import { opfsDirectory, opfsHasRoom, prepareSession, saveSupport, type SavedFile, type SaveMode, type SessionSave } from './saveTarget';
import { showSessionEvent, STATS_INTERVAL_MS, summaryOf, type Tally } from './sender';
import type { TransferView } from './transferView';
import { failureOutcome } from './view';

/** The offer prompt's elements (from index.html). */
export interface OfferElements {
  readonly form: HTMLFormElement;
  readonly text: HTMLElement;
  readonly list: HTMLElement;
  readonly error: HTMLElement;
  readonly note: HTMLElement;
  readonly accept: HTMLButtonElement;
  readonly decline: HTMLButtonElement;
  readonly radios: readonly HTMLInputElement[];
}

/** `'3 files, 21.0 MB'` or `'a.txt, 1.2 kB, text/plain'`. */
export const offerSummary = (offer: SessionOffer): string =>
  offer.files.length === 1 && isSnippet(offer.files[0])
    ? `a text snippet · ${formatSize(offer.files[0].size)}`
    : offer.files.length === 1
    ? `${offer.files[0].name} · ${formatSize(offer.files[0].size)} · ${offer.files[0].type || 'unknown type'}`
    : `${offer.files.length} files${offer.folders.length ? ` in ${offer.folders.length} folders` : ''} · ${formatSize(offer.bytes)}`;

/** What one finished file adds to its queue row: a download link, or the text of a snippet with a copy button. */
async function resultNode(doc: Document, manifest: Manifest, sha256: string, file: SavedFile): Promise<Node | undefined> {
  if (!file.url) return undefined;
  if (isSnippet(manifest)) {
    const text = await (await fetch(file.url)).text();
    const box = doc.createElement('div');
    box.className = 'snippet';
    const quote = doc.createElement('pre');
    quote.textContent = text;
    quote.dataset.sha256 = sha256;
    const copy = doc.createElement('button');
    copy.type = 'button';
    copy.textContent = 'Copy text';
    copy.addEventListener('click', () => void navigator.clipboard?.writeText(text).then(() => (copy.textContent = 'Copied')));
    box.append(quote, copy);
    return box;
  }
  const a = doc.createElement('a');
  a.href = file.url;
  a.download = file.name.split('/').pop() ?? file.name;
  a.className = 'download';
  a.dataset.sha256 = sha256;
  a.textContent = `Save ${a.download}`;
  return a;
}

/** The Receive panel's controller. */
export interface Receiver {
  /** Listens on `lanes` (and again after each session) until `stop`. */
  listen(lanes: readonly RTCPeerConnection[]): void;
  /** Ends the running session (the pair went away) and stops listening. */
  stop(reason: string): void;
}

export function createReceiver(doc: Document, view: TransferView, queue: QueueView, offerEls: OfferElements, attention: Attention): Receiver {
  const support = saveSupport();
  // The lanes listened on, the subscription, whether a session was accepted, and its storage.
  let current: readonly RTCPeerConnection[] = [];
  let sub: Subscription | undefined;
  let active = false;
  let storage: SessionSave | undefined;
  let lastStorage: SessionSave | undefined;
  let closeOffer: (() => void) | undefined;
  let tally: Tally = { bytes: 0, total: 0, files: { completed: 0, total: 0 } };

  /** Bytes OPFS holds of this offer's files from an interrupted session. */
  const heldBytes = async (offer: SessionOffer): Promise<number> => {
    if (!support.opfs) return 0;
    const target = opfsResumableTarget(await opfsDirectory());
    const held = await Promise.all(offer.files.map((m) => target.held!(m)));
    return held.reduce((a, b) => a + b, 0);
  };

  const ask = (offer: SessionOffer): Promise<AcceptDecision> =>
    new Promise<AcceptDecision>((resolve) => {
      const { form, accept, decline, radios } = offerEls;
      view.reset(offerSummary(offer));
      view.setState('offer', `Incoming: ${offerSummary(offer)}. Accept or decline.`);
      attention.incoming(`Incoming: ${offer.files.length === 1 ? offer.files[0].name : `${offer.files.length} files`}`);
      offerEls.text.textContent = offerSummary(offer);
      offerEls.list.replaceChildren(...offer.files.slice(0, 8).map((m) => Object.assign(doc.createElement('li'), { textContent: `${m.name} (${formatSize(m.size)})` })));
      if (offer.files.length > 8) offerEls.list.append(Object.assign(doc.createElement('li'), { textContent: `and ${offer.files.length - 8} more` }));
      offerEls.error.textContent = '';
      form.removeAttribute('data-ready');
      accept.disabled = true;
      void Promise.all([opfsHasRoom(offer.bytes), heldBytes(offer)]).then(([room, kept]) => {
        // A prefix kept in OPFS from before a reload can only be continued there.
        const usable: Record<SaveMode, boolean> = kept
          ? { memory: false, opfs: true, disk: false }
          : { memory: true, opfs: support.opfs && room, disk: support.disk && offer.files.length === 1 };
        if (kept) offerEls.text.textContent = `${offerSummary(offer)} · continues from ${formatSize(kept)} kept in browser storage`;
        for (const r of radios) r.disabled = !usable[r.value as SaveMode];
        radios.find((r) => r.value === (usable.opfs ? 'opfs' : 'memory'))!.checked = true;
        offerEls.note.textContent = [
          support.opfs ? (room ? '' : 'Browser storage has no room for these files.') : 'Browser storage (OPFS) is not available here (it needs a secure context: https or 127.0.0.1).',
          usable.disk ? '' : 'Saving straight to a file you choose needs showSaveFilePicker (Chromium on desktop) and one file.',
        ]
          .filter(Boolean)
          .join(' ');
        accept.disabled = false;
        form.setAttribute('data-ready', '');
      });
      form.hidden = false;
      // The offer sits at the top of the page; bring it into view wherever the person had scrolled.
      form.scrollIntoView?.({ block: 'nearest' });
      const cleanup = (): void => {
        form.removeEventListener('submit', onAccept);
        decline.removeEventListener('click', onDecline);
        form.hidden = true;
        attention.clear();
        closeOffer = undefined;
      };
      closeOffer = () => {
        cleanup();
        resolve(false);
      };
      const onAccept = (e: SubmitEvent): void => {
        e.preventDefault();
        if (accept.disabled) return;
        accept.disabled = true;
        const mode = (radios.find((r) => r.checked)?.value ?? 'memory') as SaveMode;
        // prepareSession opens the save dialog for `disk`: it must run inside this click.
        prepareSession(mode, offer.files).then(
          (prepared) => {
            cleanup();
            void lastStorage?.release();
            storage = prepared;
            view.setState('active', `Accepted ${offerSummary(offer)}; waiting for data…`);
            resolve(true);
          },
          (err: Error) => {
            accept.disabled = false;
            offerEls.error.textContent = `Could not prepare storage (${err.name}: ${err.message}). Pick another option.`;
          },
        );
      };
      const onDecline = (): void => {
        cleanup();
        resolve(false);
      };
      form.addEventListener('submit', onAccept);
      decline.addEventListener('click', onDecline);
    });

  const finished = (outcome: 'completed' | 'cancelled' | 'declined' | 'failed' | 'peer-left', state: Parameters<TransferView['setState']>[0], text: string): void => {
    closeOffer?.();
    if (outcome !== 'completed') {
      queue.stop();
      // When the other device left, the parts stay for a resume when it offers again.
      if (outcome !== 'peer-left') void storage?.discard();
    }
    if (active || outcome === 'completed') view.showSummary(summaryOf(tally, outcome, Date.now()));
    view.setState(state, text);
    lastStorage = storage;
    storage = undefined;
    active = false;
    view.cancelButton.disabled = true;
  };

  const receiver: Receiver = {
    listen(lanes) {
      current = lanes;
      if (!lanes.length) return;
      tally = { bytes: 0, total: 0, files: { completed: 0, total: 0 } };
      // Before Accept the library peeks at what OPFS holds from an interrupted session (a reload) and
      // opens those files to prove their prefix; after Accept every file goes to the chosen storage.
      const resumable = support.opfs ? opfsDirectory().then((dir) => opfsResumableTarget(dir)) : undefined;
      const target: ReceiveTarget = {
        held: async (m) => (resumable ? (await resumable).held!(m) : 0),
        open: async (m, hints) => (storage ? storage.target.open(m, hints) : (await resumable!).open(m, hints)),
      };
      const session$ = receiveFiles(lanes, { sampleIntervalMs: STATS_INTERVAL_MS, target, accept: ask });
      const again = (): void => {
        sub?.unsubscribe();
        sub = undefined;
        if (current === lanes) receiver.listen(lanes);
      };
      // A container, not the stats subscriber itself: that one closes when the session completes,
      // and would take the events subscription down with it before its `complete` arrives.
      sub = new Subscription();
      sub.add(session$.stats$.subscribe({ next: (s) => active && view.showStats(s), error: () => undefined }));
      sub.add(
        session$.subscribe({
          next: (ev) => {
            showSessionEvent(ev, view, queue, tally, Date.now());
            if (ev.type === 'started') {
              active = true;
              view.cancelButton.disabled = false;
              view.setState('active', `Receiving ${offerSummary(ev.offer)}${ev.from > 0 ? `, continuing from ${formatSize(ev.from)}` : ''}…`);
            } else if (ev.type === 'file-completed') {
              const own = storage;
              void own
                ?.finish(ev.manifest, ev.result)
                .then((file) => resultNode(doc, ev.manifest, ev.sha256, file))
                .then((node) => queue.done(ev.manifest.index, node));
            } else if (ev.type === 'rejected') finished('declined', 'declined', `Declined ${ev.offer.files.length === 1 ? ev.offer.files[0].name : `${ev.offer.files.length} files`}.`);
            else if (ev.type === 'completed') {
              tally.bytes = ev.bytes;
              tally.files = { completed: ev.files.length, total: ev.files.length };
              view.showProgress({ bytes: ev.bytes, total: ev.bytes, percent: 100 });
              const where = storage?.mode === 'opfs' ? 'in the browser’s private storage (OPFS)' : storage?.mode === 'disk' ? 'in the file you chose' : 'in memory';
              const what = ev.files.length === 1 ? `${ev.files[0].manifest.name} (${formatSize(ev.bytes)})` : `${ev.files.length} files (${formatSize(ev.bytes)})`;
              finished('completed', 'completed', `Received ${what}, SHA-256 verified; stored ${where}.`);
            }
          },
          error: (err) => {
            const outcome = failureOutcome(err, 'receiver');
            finished(outcome.state, outcome.state, outcome.text);
            again();
          },
          complete: again,
        }),
      );
    },
    stop(reason) {
      current = [];
      const was = active || view.state === 'offer';
      sub?.unsubscribe();
      sub = undefined;
      if (was) finished('peer-left', 'failed', reason);
    },
  };
  view.cancelButton.addEventListener('click', () => {
    if (!active) return;
    const lanes = current;
    sub?.unsubscribe();
    sub = undefined;
    finished('cancelled', 'cancelled', 'Cancelled.');
    receiver.listen(lanes);
  });
  return receiver;
}
