/**
 * The web example's page: wires the room connection (room$.ts), joining (joinView.ts), the Send
 * panel (picker.ts, sender.ts), the Receive panel (receiver.ts), storage (saveTarget.ts) and the
 * transfer views together. Formatting lives in format.ts, view.ts and peopleStats.ts.
 *
 * Lifecycle of one pair of devices:
 * - The page joins `?room=<name>` or `?code=<CODE>` (a new room when neither is given). The
 *   server's `waiting` gives the room's short code: the join block shows it, the room link, its
 *   QR code and a copy button. After pairing by code, the URL becomes `?room=<name>`, so a reload
 *   rejoins the same room.
 * - `pairing`: the lanes exist. Each is wrapped with `channelsInWorker`, so the data channels of
 *   both panels' transfers run in a Worker and the page's main thread stays free for the UI (where
 *   no worker can start, the lanes stay as they are). The worker starts when the page loads, so the
 *   wrap is done long before a channel can arrive. Then the Receive panel listens
 *   (`receiveFiles`), and again after every session ends.
 * - `connected` (and wrapped): Send comes alive and both pages show the safety code (`shortAuthString` of the
 *   lanes' DTLS fingerprints).
 * - Send: `sendFiles(lanes, set)`; Cancel unsubscribes (the receiver sees "Cancelled by the sender").
 */
import { channelsInWorker, filesFromFileList, shortAuthString, type FileSet, type ProfileName } from '../../src/index';
import { createAttention } from './attention';
import { createJoinView } from './joinView';
import { createPicker, MAX_SNIPPET_CHARS, snippetName } from './picker';
import { createQueueView } from './queueView';
import { createReceiver } from './receiver';
import { room$, type RoomEvent } from './room$';
import { createSender } from './sender';
import { parseLanes, ROOM_PATTERN } from './signalling';
import { createTransferView } from './transferView';

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node as T;
};

// ---- Room from the URL -----------------------------------------------------------------------
const params = new URLSearchParams(location.search);
const code = params.get('code') ?? undefined;
let room = params.get('room') ?? '';
if (!code && !ROOM_PATTERN.test(room)) {
  room = Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, '0')).join('');
  params.set('room', room);
  history.replaceState(null, '', `?${params}`);
}
const lanesWanted = parseLanes(params.get('lanes'));
const roomLink = (name: string): string => `${location.origin}${location.pathname}?room=${encodeURIComponent(name)}${params.has('lanes') ? `&lanes=${lanesWanted}` : ''}`;
const resumeKey = (name: string): string => `tallow-rx-seat:${name}`;

// ---- Views -------------------------------------------------------------------------------------
const sendView = createTransferView(document, 'send', 'Send');
const receiveView = createTransferView(document, 'receive', 'Receive', { buffers: false });
const sendQueue = createQueueView(document, 'send', 'Files being sent');
const receiveQueue = createQueueView(document, 'receive', 'Files being received');
$('send-view').append(sendView.element, sendQueue.element);
$('receive-view').append(receiveView.element, receiveQueue.element);
const connection = $('connection');
const sendButton = $<HTMLButtonElement>('send-button');
const snippet = $<HTMLTextAreaElement>('snippet');
const snippetButton = $<HTMLButtonElement>('snippet-button');
const join = createJoinView(
  document,
  {
    code: $('room-code'),
    qr: $('qr'),
    link: $<HTMLAnchorElement>('room-link'),
    copyButton: $<HTMLButtonElement>('copy-link'),
    copyStatus: $('copy-status'),
    form: $<HTMLFormElement>('join-form'),
    input: $<HTMLInputElement>('join-code'),
    error: $('join-error'),
    safety: $('safety'),
  },
  (typed) => location.assign(`${location.pathname}?code=${typed}${params.has('lanes') ? `&lanes=${lanesWanted}` : ''}`),
);
if (room) join.showRoom({ link: roomLink(room) });
const attention = createAttention(document, $<HTMLButtonElement>('notify-button'));

// ---- State ---------------------------------------------------------------------------------------
/** The current pair's peer connections (empty while unpaired); once `wrapped`, their `channelsInWorker` stand-ins. */
let lanes: readonly RTCPeerConnection[] = [];
let role: 'offerer' | 'answerer' = 'offerer';
/** The lanes are connected (room$ said so), and wrapped: then Send is live. */
let linked = false;
let wrapped = false;
let connected = false;

/** Starts the page's channel worker now (a throwaway connection, no ICE servers, closed at once), so a pair's wrap takes a microtask. */
const workerStarted = (() => {
  if (typeof RTCPeerConnection !== 'function') return Promise.resolve();
  const probe = new RTCPeerConnection({ iceServers: [] });
  return channelsInWorker(probe).then(
    () => probe.close(),
    () => probe.close(),
  );
})();
/** What the Send button sends. */
let chosen: FileSet | undefined;

const setConnection = (state: string, text: string): void => {
  document.body.dataset.connection = state;
  connection.textContent = text;
};
const sender = createSender(sendView, sendQueue, () => updateButtons());
const receiver = createReceiver(
  document,
  receiveView,
  receiveQueue,
  {
    form: $<HTMLFormElement>('offer'),
    text: $('offer-text'),
    list: $('offer-list'),
    error: $('offer-error'),
    note: $('save-note'),
    accept: $<HTMLButtonElement>('accept-button'),
    decline: $<HTMLButtonElement>('decline-button'),
    radios: Array.from(document.querySelectorAll<HTMLInputElement>('#offer input[name="save"]')),
  },
  attention,
);
function updateButtons(): void {
  sendButton.disabled = !(connected && chosen && !sender.busy);
  snippetButton.disabled = !(connected && snippet.value.trim() && !sender.busy);
}

// ---- Sending -------------------------------------------------------------------------------------
createPicker({ fileInput: $('file-input'), folderInput: $('folder-input'), dropZone: $('drop-zone'), chosen: $('file-chosen') }, (set) => {
  chosen = set;
  updateButtons();
});
const profile = (): ProfileName | 'auto' => $<HTMLSelectElement>('profile').value as ProfileName | 'auto';
$<HTMLFormElement>('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (chosen && connected) sender.send(lanes, chosen, profile(), role);
});
snippet.addEventListener('input', updateButtons);
$<HTMLFormElement>('snippet-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = snippet.value.slice(0, MAX_SNIPPET_CHARS);
  if (!text.trim() || !connected) return;
  const file = new File([text], snippetName(Date.now()), { type: 'text/plain;charset=utf-8' });
  sender.send(lanes, filesFromFileList([file]), profile(), role);
  snippet.value = '';
  updateButtons();
});

// ---- The room ------------------------------------------------------------------------------------
/** Ends both panels' sessions when the pair goes away. */
function dropPair(reason: string): void {
  connected = linked = wrapped = false;
  lanes = [];
  join.showSafetyCode(undefined);
  sender.drop(reason);
  receiver.stop(reason);
  updateButtons();
}

/** Shows the safety code of the current lanes once they are connected. */
function showSafetyCode(on: readonly RTCPeerConnection[]): void {
  const sdp = (which: 'localDescription' | 'remoteDescription'): string[] => on.map((pc) => pc[which]?.sdp ?? '');
  shortAuthString(sdp('localDescription'), sdp('remoteDescription')).then(
    (sas) => on === lanes && join.showSafetyCode(sas),
    (err: Error) => on === lanes && join.showSafetyCode(`unavailable (${err.message})`),
  );
}

/** Wraps the pair's connections with `channelsInWorker`; then the Receive panel listens on the stand-ins. */
function wrapLanes(pair: readonly RTCPeerConnection[]): void {
  const wrap = workerStarted.then(() => Promise.all(pair.map((pc) => channelsInWorker(pc))));
  wrap.then(
    (inWorker) => {
      if (lanes !== pair) return; // replaced or dropped meanwhile
      lanes = inWorker;
      wrapped = true;
      // Where the data channels run, for the curious and the tests: a stand-in is a different object.
      document.body.dataset.channels = inWorker.every((pc, i) => pc !== pair[i]) ? 'worker' : 'page';
      receiver.listen(lanes);
      goLive();
    },
    (err: Error) => lanes === pair && dropPair(`Could not set up the connection: ${err.message}.`),
  );
}

/** Send comes alive once the lanes are both connected and wrapped (in either order). */
function goLive(): void {
  if (!linked || !wrapped || connected) return;
  connected = true;
  showSafetyCode(lanes);
  sender.resumeInterrupted(lanes, role);
  updateButtons();
}

const onRoom = (e: RoomEvent): void => {
  switch (e.kind) {
    case 'signalling':
      setConnection('signalling', 'Connecting to the server…');
      return;
    case 'waiting':
      room = e.room;
      if (e.resume) sessionStorage.setItem(resumeKey(e.room), e.resume);
      join.showRoom({ link: roomLink(e.room), code: e.code });
      setConnection('waiting', 'Waiting for the other device: scan the QR code, open the link, or type the room code there.');
      return;
    case 'pairing':
      dropPair('The connection was replaced.');
      if (e.room && e.room !== room) {
        room = e.room;
        history.replaceState(null, '', `?room=${encodeURIComponent(room)}${params.has('lanes') ? `&lanes=${lanesWanted}` : ''}`);
        join.showRoom({ link: roomLink(room) });
      }
      if (e.resume && room) sessionStorage.setItem(resumeKey(room), e.resume);
      lanes = e.lanes;
      role = e.role;
      wrapLanes(e.lanes);
      setConnection('pairing', 'Found the other device; connecting…');
      return;
    case 'connected':
      linked = true;
      setConnection('connected', `Connected to the other device over ${e.lanes.length} peer connection${e.lanes.length === 1 ? '' : 's'}.`);
      goLive();
      return;
    case 'peer-left':
      dropPair('The other device left.');
      setConnection('waiting', 'The other device left. Waiting for it to come back, or for another one…');
      return;
    case 'failed':
      dropPair(`Connection failed: ${e.reason}.`);
      setConnection('failed', `Connection failed: ${e.reason}. Reload both pages to try again.`);
      return;
    case 'full':
      setConnection('full', 'This room already has two devices. Open the page without ?room= to start a new one.');
      return;
  }
};

const resume = room ? (sessionStorage.getItem(resumeKey(room)) ?? undefined) : undefined;
room$({ signalUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`, ...(code ? { code } : { room, resume }), lanes: lanesWanted }).subscribe({
  next: onRoom,
  error: (err: Error & { code?: string }) => {
    dropPair('The server connection was lost.');
    if (err.code === 'unknown-code') {
      join.showJoinError(`No room has the code ${code ?? ''} (it may have expired). Check it, or ask for a new one.`);
      setConnection('failed', 'That room code is unknown or expired.');
    } else if (err.code === 'rate-limited') setConnection('failed', 'Too many attempts: wait a minute, then reload the page.');
    else setConnection('failed', `The server connection was lost (${err.message}). Reload the page.`);
  },
});
