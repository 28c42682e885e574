/**
 * Chromium runner module of bench/channelTransfer.ts: can this Chromium transfer an RTCDataChannel to a
 * Worker (`worker.postMessage(channel, [channel])`, as Safari can), so that a whole data path could run there?
 *
 * It asks twice: in the harness page of the default launch (the flags every test and bench uses), and in a
 * second browser launched with `--enable-blink-features=TransferableRTCDataChannel`, the runtime feature
 * Chromium's binary names. In each it reports whether a Worker scope has `RTCDataChannel`, what
 * `postMessage` with the channel in the transfer list does, and, when the channel arrives in the worker,
 * whether the worker can send on it once it opens (a connected pair of peer connections in the page).
 */
import { launchChromium, openHarnessPage, type ChromiumRunnerContext } from '../../../test/harness/chromium';
import type { Page } from 'playwright-core';

/** What one browser said. */
export interface ChannelTransferAnswer {
  readonly flags: string;
  readonly userAgent: string;
  /** `typeof RTCDataChannel` inside a dedicated worker. */
  readonly inWorker: string;
  /** `transferred`, or the error `postMessage` threw (`DataCloneError: …`). */
  readonly postMessage: string;
  /** With the channel in the worker: what the worker saw (its class, then sends and what the page received). */
  readonly workerSide?: string;
}

/**
 * The probe, as page-side JavaScript text: `page.evaluate` of a function compiled by tsx would carry its
 * `__name` helper, which the page does not have.
 */
const PROBE = `async (flagText) => {
  const source = \`
    let ch;
    onmessage = (e) => {
      if (e.data === 'hello') return postMessage('RTCDataChannel: ' + typeof RTCDataChannel);
      ch = e.data.channel;
      const say = (m) => postMessage(m);
      say('got ' + Object.prototype.toString.call(ch) + ', readyState ' + ch.readyState);
      const go = () => {
        try { for (let i = 0; i < 4; i++) ch.send(new Uint8Array(65536)); say('sent 4 x 64 KiB, bufferedAmount ' + ch.bufferedAmount); }
        catch (err) { say('send threw ' + err.name + ': ' + err.message); }
      };
      if (ch.readyState === 'open') go(); else ch.onopen = go;
    };\`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  const next = (ms) => new Promise((resolve) => {
    const t = setTimeout(() => resolve('(no answer)'), ms);
    worker.addEventListener('message', (e) => (clearTimeout(t), resolve(String(e.data))), { once: true });
  });
  worker.postMessage('hello');
  const inWorker = await next(5000);
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const channel = a.createDataChannel('probe', { negotiated: true, id: 0 });
  const far = b.createDataChannel('probe', { negotiated: true, id: 0 });
  let received = 0;
  far.binaryType = 'arraybuffer';
  far.onmessage = (e) => (received += e.data.byteLength);
  let postMessage = 'transferred';
  let workerSide;
  try {
    worker.postMessage({ channel }, [channel]);
  } catch (err) {
    postMessage = err.name + ': ' + err.message;
  }
  if (postMessage === 'transferred') {
    const got = next(5000);
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
    const first = await got;
    const sent = await next(10000);
    await new Promise((r) => setTimeout(r, 1000));
    workerSide = first + '; ' + sent + '; the far end in the page received ' + received + ' B';
  }
  a.close();
  b.close();
  worker.terminate();
  return { flags: flagText, userAgent: navigator.userAgent, inWorker, postMessage, workerSide };
}`;

/** Runs the probe in `page` (served from 127.0.0.1, so a Blob worker may start). */
const probe = (page: Page, flags: string): Promise<ChannelTransferAnswer> => page.evaluate(`(${PROBE})(${JSON.stringify(flags)})`) as Promise<ChannelTransferAnswer>;

export default async function channelTransferProbe(context: ChromiumRunnerContext): Promise<ChannelTransferAnswer[]> {
  const answers = [await probe(context.page, 'the bench and test flags')];
  const flag = '--enable-blink-features=TransferableRTCDataChannel';
  const flagged = await launchChromium({ args: [flag] });
  try {
    await openHarnessPage(flagged.page, context.server);
    answers.push(await probe(flagged.page, flag));
  } finally {
    await flagged.close();
  }
  return answers;
}
