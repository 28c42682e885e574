/**
 * The web example's page: wires the room connection (room$.ts), the library's
 * `sendFile`/`receiveFile`, storage (saveTarget.ts) and the two transfer views
 * (transferView.ts) together. All formatting lives in format.ts, chart.ts and
 * view.ts.
 *
 * Lifecycle of one pair of tabs:
 * - `pairing`: the lanes exist; this tab subscribes `receiveFile` at once, so it
 *   listens before the other tab can send, and again after every receive ends.
 * - `connected`: the Send button comes alive.
 * - Send: `sendFile(lanes, file)`; Cancel unsubscribes (the receiver sees
 *   "Cancelled by the sender").
 * - Receive: the library's `accept` callback shows the offer and resolves when
 *   the user accepts (after storage is ready) or declines. Cancel unsubscribes.
 * - Both tabs may send at the same time: the offering tab's transfers use
 *   channel ids 512-639, the answering tab's 768-895, rotating per transfer.
 */
import { Subscription, type Observer } from 'rxjs';
import { receiveFile, sendFile, type Manifest, type ProfileName, type ReceiveTarget, type TransferEvent, type TransferObservable } from '../../src/index';
import { formatBytes } from './format';
import { room$, type RoomEvent } from './room$';
import { opfsHasRoom, prepareSave, saveSupport, type PreparedSave, type SavedFile, type SaveMode } from './saveTarget';
import { parseLanes, ROOM_PATTERN } from './signalling';
import { createTransferView, type TransferView } from './transferView';
import { failureOutcome } from './view';

/** Stats sample period, ms: four updates a second. */
export const STATS_INTERVAL_MS = 250;
/** First channel id of this tab's transfers, by role; 8 blocks of 16 ids each. */
const ID_BASE = { offerer: 512, answerer: 768 } as const;
const ID_BLOCKS = 8;

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node as T;
};

// ---- Room from the URL ---------------------------------------------------------------------
const params = new URLSearchParams(location.search);
let room = params.get('room') ?? '';
if (!ROOM_PATTERN.test(room)) {
  room = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
  params.set('room', room);
  history.replaceState(null, '', `?${params}`);
}
const lanesWanted = parseLanes(params.get('lanes'));
$('room-name').textContent = room;
$<HTMLAnchorElement>('room-link').href = `${location.pathname}?${params}`;

// ---- Views -----------------------------------------------------------------------------------
const sendView = createTransferView(document, 'send', 'Send');
const receiveView = createTransferView(document, 'receive', 'Receive');
$('send-view').append(sendView.element);
$('receive-view').append(receiveView.element);

const connection = $('connection');
const sendButton = $<HTMLButtonElement>('send-button');
const fileInput = $<HTMLInputElement>('file-input');
const fileChosen = $('file-chosen');
const dropZone = $('drop-zone');
const profileSelect = $<HTMLSelectElement>('profile');
const offerForm = $<HTMLFormElement>('offer');
const offerText = $('offer-text');
const offerError = $('offer-error');
const acceptButton = $<HTMLButtonElement>('accept-button');
const saveNote = $('save-note');
const saved = $('saved');
const download = $<HTMLAnchorElement>('download');
const savedDetail = $('saved-detail');

// ---- State -------------------------------------------------------------------------------------
/** The current pair's peer connections (empty while unpaired), and this tab's role in it. */
let lanes: readonly RTCPeerConnection[] = [];
let role: 'offerer' | 'answerer' = 'offerer';
let connected = false;
/** The file to send. */
let chosen: File | undefined;
/** The running send, and the receiver subscription (listening or receiving). */
let sending: Subscription | undefined;
let receiving: { sub: Subscription; active: boolean; discard: () => void } | undefined;
/** Transfers started by this tab, for channel-id rotation. */
let sendCount = 0;
/** The last received file (its blob: URL and OPFS copy are released when the next one is accepted). */
let lastSaved: SavedFile | undefined;
/** Hides the offer prompt and detaches its handlers (set while an offer waits for an answer). */
let closeOffer: (() => void) | undefined;

const setConnection = (state: string, text: string): void => {
  document.body.dataset.connection = state;
  connection.textContent = text;
};
/** Seconds since a `performance.now()` time, for status lines. */
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const updateSendButton = (): void => {
  sendButton.disabled = !(connected && chosen && !sending);
};

// ---- Choosing a file: input or drag and drop -------------------------------------------------
const choose = (file: File | undefined): void => {
  chosen = file;
  fileChosen.textContent = file ? `${file.name} (${formatBytes(file.size)})` : 'No file chosen.';
  updateSendButton();
};
fileInput.addEventListener('change', () => choose(fileInput.files?.[0]));
// Without this, dropping a file anywhere else would navigate away from the page.
for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (e) => e.preventDefault());
dropZone.addEventListener('dragenter', () => dropZone.classList.add('dragging'));
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (e) => {
  dropZone.classList.remove('dragging');
  const file = e.dataTransfer?.files[0];
  if (file) choose(file);
});

// ---- Sending -------------------------------------------------------------------------------------
/** Subscribes `stats$` first, then the events (they share one transfer); returns both. */
function watch(transfer$: TransferObservable, view: TransferView, handlers: Partial<Observer<TransferEvent>>): Subscription {
  const sub = new Subscription();
  sub.add(transfer$.stats$.subscribe({ next: (s) => view.showStats(s), error: () => undefined }));
  sub.add(transfer$.subscribe(handlers));
  return sub;
}

$<HTMLFormElement>('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const file = chosen;
  if (!file || !connected || sending) return;
  const profile = profileSelect.value as ProfileName | 'auto';
  const channelIdBase = ID_BASE[role] + (sendCount++ % ID_BLOCKS) * 16;
  const transfer$ = sendFile(lanes, file, { name: file.name, type: file.type || 'application/octet-stream', profile, channelIdBase, sampleIntervalMs: STATS_INTERVAL_MS });
  sendView.reset(`${file.name} (${formatBytes(file.size)})`);
  sendView.setState('offer', `Offered ${file.name}; waiting for the other tab to accept…`);
  sendView.cancelButton.disabled = false;
  const end = (): void => {
    sending?.unsubscribe();
    sending = undefined;
    sendView.cancelButton.disabled = true;
    updateSendButton();
  };
  // From the receiver's accept to its confirmation (`completed.seconds` also counts the wait for accept).
  let startedAt = performance.now();
  sending = watch(transfer$, sendView, {
    next: (ev) => {
      if (ev.type === 'started') {
        startedAt = performance.now();
        sendView.setState('active', `Sending ${file.name}…`);
      } else if (ev.type === 'progress') sendView.showProgress(ev);
      else if (ev.type === 'completed') {
        sendView.showProgress({ bytes: ev.bytes, total: ev.bytes, percent: 100 });
        sendView.setState('completed', `Sent ${file.name} (${formatBytes(ev.bytes)}) in ${seconds(startedAt)}; the receiver confirmed SHA-256 ${ev.sha256}.`);
      }
    },
    error: (err) => {
      const outcome = failureOutcome(err, 'sender');
      sendView.setState(outcome.state, outcome.text);
      end();
    },
    complete: end,
  });
  updateSendButton();
});

sendView.cancelButton.addEventListener('click', () => {
  if (!sending) return;
  sending.unsubscribe();
  sending = undefined;
  sendView.setState('cancelled', 'Cancelled.');
  sendView.cancelButton.disabled = true;
  updateSendButton();
});

// ---- Receiving ----------------------------------------------------------------------------------
const support = saveSupport();
const radios = Array.from(offerForm.querySelectorAll<HTMLInputElement>('input[name="save"]'));

/** Shows the offer and resolves true once storage is ready and the user accepted, false on decline. */
function askUser(manifest: Manifest, onPrepared: (p: PreparedSave) => void): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    receiveView.reset(`${manifest.name} (${formatBytes(manifest.size)})`);
    receiveView.setState('offer', `Incoming: ${manifest.name}, ${formatBytes(manifest.size)}. Accept or decline.`);
    offerText.textContent = `${manifest.name} · ${formatBytes(manifest.size)} · ${manifest.type || 'unknown type'}`;
    offerError.textContent = '';
    // Options and the default are known once the quota check ran; Accept waits for it, so the
    // check can never override a choice the user already made.
    offerForm.removeAttribute('data-ready');
    acceptButton.disabled = true;
    void opfsHasRoom(manifest.size).then((room) => {
      const usable: Record<SaveMode, boolean> = { memory: true, opfs: support.opfs && room, disk: support.disk };
      for (const r of radios) r.disabled = !usable[r.value as SaveMode];
      const preferred: SaveMode = usable.opfs ? 'opfs' : 'memory';
      radios.find((r) => r.value === preferred)!.checked = true;
      saveNote.textContent = [
        support.opfs ? (room ? '' : 'Browser storage has no room for this file.') : 'Browser storage (OPFS) is not available here.',
        support.disk ? '' : 'Saving straight to disk needs showSaveFilePicker (Chromium on desktop).',
      ]
        .filter(Boolean)
        .join(' ');
      acceptButton.disabled = false;
      offerForm.setAttribute('data-ready', '');
    });
    offerForm.hidden = false;
    const decline = $<HTMLButtonElement>('decline-button');
    const cleanup = (): void => {
      offerForm.removeEventListener('submit', onAccept);
      decline.removeEventListener('click', onDecline);
      offerForm.hidden = true;
      closeOffer = undefined;
    };
    closeOffer = cleanup;
    const onAccept = (e: SubmitEvent): void => {
      e.preventDefault();
      if (acceptButton.disabled) return;
      acceptButton.disabled = true;
      const mode = (radios.find((r) => r.checked)?.value ?? 'memory') as SaveMode;
      // prepareSave opens the save dialog for `disk`: it must run inside this click.
      prepareSave(mode, manifest).then(
        (prepared) => {
          cleanup();
          onPrepared(prepared);
          void lastSaved?.release();
          lastSaved = undefined;
          saved.hidden = true;
          receiveView.setState('active', `Accepted ${manifest.name}; waiting for data…`);
          resolve(true);
        },
        (err: Error) => {
          acceptButton.disabled = false;
          offerError.textContent = `Could not prepare storage (${err.name}: ${err.message}). Pick another option.`;
        },
      );
    };
    const onDecline = (): void => {
      cleanup();
      resolve(false);
    };
    offerForm.addEventListener('submit', onAccept);
    decline.addEventListener('click', onDecline);
  });
}

/** Subscribes a receiver on `on` and re-subscribes after each transfer, while `on` is the current pair. */
function listen(on: readonly RTCPeerConnection[]): void {
  if (on !== lanes || !on.length) return;
  let prepared: PreparedSave | undefined;
  // The target is chosen when the user accepts; receiveFile opens it only after that.
  const target: ReceiveTarget = { open: (m) => prepared!.target.open(m) };
  const transfer$ = receiveFile(on, {
    sampleIntervalMs: STATS_INTERVAL_MS,
    target,
    accept: (m) => askUser(m, (p) => (prepared = p)),
  });
  let name = '';
  // From accept to verified (`completed.seconds` counts from this subscription, which listened long before).
  let startedAt = 0;
  const again = (): void => {
    receiving?.sub.unsubscribe();
    receiving = undefined;
    receiveView.cancelButton.disabled = true;
    listen(on);
  };
  const sub = watch(transfer$, receiveView, {
    next: (ev) => {
      if (ev.type === 'offer') name = ev.manifest.name;
      else if (ev.type === 'started') {
        startedAt = performance.now();
        receiving!.active = true;
        receiveView.cancelButton.disabled = false;
        receiveView.setState('active', `Receiving ${name}…`);
      } else if (ev.type === 'progress') receiveView.showProgress(ev);
      else if (ev.type === 'rejected') receiveView.setState('declined', `Declined ${name}.`);
      else if (ev.type === 'completed') {
        receiveView.showProgress({ bytes: ev.bytes, total: ev.bytes, percent: 100 });
        const sha256 = ev.sha256;
        const took = seconds(startedAt);
        void prepared!.finish(ev.result).then((file) => {
          lastSaved = file;
          if (file.url) {
            download.href = file.url;
            download.download = file.name;
            download.textContent = `Save ${file.name} (${formatBytes(file.size)})`;
            download.dataset.sha256 = sha256;
            savedDetail.textContent = `SHA-256 ${sha256}, verified.`;
            saved.hidden = false;
          }
          receiveView.setState('completed', `Received ${file.name} (${formatBytes(file.size)}) in ${took}, SHA-256 verified; stored ${file.where}.`);
        });
      }
    },
    error: (err) => {
      closeOffer?.();
      void prepared?.discard();
      const outcome = failureOutcome(err, 'receiver');
      receiveView.setState(outcome.state, outcome.text);
      again();
    },
    complete: again,
  });
  receiving = { sub, active: false, discard: () => void prepared?.discard() };
}

receiveView.cancelButton.addEventListener('click', () => {
  const current = receiving;
  if (!current?.active) return;
  current.sub.unsubscribe();
  current.discard();
  receiving = undefined;
  receiveView.setState('cancelled', 'Cancelled.');
  receiveView.cancelButton.disabled = true;
  listen(lanes);
});

// ---- The room ----------------------------------------------------------------------------------
/** Ends both transfers when the pair goes away. */
function dropPair(reason: string): void {
  connected = false;
  lanes = [];
  closeOffer?.();
  if (sending) {
    sending.unsubscribe();
    sending = undefined;
    sendView.setState('failed', reason);
    sendView.cancelButton.disabled = true;
  }
  if (receiving) {
    const wasActive = receiving.active;
    receiving.sub.unsubscribe();
    receiving.discard();
    receiving = undefined;
    if (wasActive || receiveView.state === 'offer') receiveView.setState('failed', reason);
    receiveView.cancelButton.disabled = true;
  }
  updateSendButton();
}

const onRoom = (e: RoomEvent): void => {
  switch (e.kind) {
    case 'signalling':
      setConnection('signalling', 'Connecting to the signalling server…');
      return;
    case 'waiting':
      setConnection('waiting', `Waiting for a second tab in room ${e.room}: open the link below in another tab.`);
      return;
    case 'pairing':
      dropPair('The connection was replaced.');
      lanes = e.lanes;
      role = e.role;
      listen(lanes);
      setConnection('pairing', 'Found the other tab; connecting…');
      return;
    case 'connected':
      connected = true;
      setConnection('connected', `Connected to the other tab over ${e.lanes.length} peer connection${e.lanes.length === 1 ? '' : 's'}.`);
      updateSendButton();
      return;
    case 'peer-left':
      dropPair('The other tab left.');
      setConnection('waiting', 'The other tab left. Waiting for another one…');
      return;
    case 'failed':
      dropPair(`Connection failed: ${e.reason}.`);
      setConnection('failed', `Connection failed (${e.reason}). Reload both tabs.`);
      return;
    case 'full':
      setConnection('full', 'This room already has two tabs. Open the page with another ?room=.');
      return;
  }
};

room$({ signalUrl: `ws://${location.host}/signal`, room, lanes: lanesWanted }).subscribe({
  next: onRoom,
  error: (err: Error) => {
    dropPair('Signalling was lost.');
    setConnection('failed', `Signalling was lost (${err.message}). Reload the page.`);
  },
});
