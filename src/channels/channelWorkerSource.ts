/**
 * The script of the channel worker (src/channels/ChannelWorker.ts), as text: it runs in a dedicated Worker
 * started from a Blob URL, so it is plain JavaScript with no imports. It owns data channels transferred to
 * it and relays their I/O to the page. The messages, page → worker:
 *
 * | message                          | the worker                                                           |
 * |----------------------------------|----------------------------------------------------------------------|
 * | `adopt` id, channel, threshold   | keeps the channel under `id`; relays its events (below)              |
 * | `send` id, data, bytes, length?  | `send(data)`, or holds it until the channel opens; answers `state`;  |
 * |                                  | with `length`, sends `data`'s first `length` bytes and hands `data`  |
 * |                                  | back in that `state` (a pooled buffer)                               |
 * | `threshold` id, value            | sets `bufferedAmountLowThreshold`; answers `state`                   |
 * | `close` id                       | `close()`                                                            |
 *
 * worker → page: `ready` once, when the script runs; `open` (id, stream id), `message` (id, data; an ArrayBuffer is transferred), `state` (id,
 * `sent`: bytes of `send`s handed to the channel since the last `state`, `buffered`: its `bufferedAmount`,
 * `back`: the pooled buffers sent since, transferred back; also on each `bufferedamountlow`), `error` (id, name, message) and `close` (id). A `send` the channel
 * refuses (closed, or Chromium's 16 MiB queue full) answers `error` and closes the channel, so its `close`
 * follows: the page never loses bytes silently.
 */
export const CHANNEL_WORKER_SOURCE = `'use strict';
const channels = new Map();
const post = (m, transfer) => postMessage(m, transfer || []);
const report = (id, c) => {
  const sent = c.sent;
  const back = c.back;
  c.sent = 0;
  c.back = [];
  post({ t: 'state', id, sent, buffered: c.ch.bufferedAmount, back }, back);
};
const fail = (id, c, err) => {
  post({ t: 'error', id, name: (err && err.name) || 'Error', message: String((err && err.message) || err) });
  try { c.ch.close(); } catch (e) {}
};
const sendNow = (id, c, data, bytes, length) => {
  c.sent += bytes;
  try { c.ch.send(length === undefined ? data : new Uint8Array(data, 0, length)); } catch (err) { fail(id, c, err); }
  if (length !== undefined) c.back.push(data);
};
const adopt = (id, ch, threshold) => {
  const c = { ch, held: [], sent: 0, back: [] };
  channels.set(id, c);
  ch.binaryType = 'arraybuffer';
  ch.bufferedAmountLowThreshold = threshold;
  const opened = () => {
    post({ t: 'open', id, sid: ch.id });
    const held = c.held;
    c.held = [];
    for (const [data, bytes, length] of held) sendNow(id, c, data, bytes, length);
    if (held.length) report(id, c);
  };
  ch.addEventListener('open', opened);
  ch.addEventListener('message', (e) => post({ t: 'message', id, data: e.data }, e.data instanceof ArrayBuffer ? [e.data] : []));
  ch.addEventListener('bufferedamountlow', () => report(id, c));
  ch.addEventListener('error', (e) => post({ t: 'error', id, name: (e.error && e.error.name) || 'Error', message: String((e.error && e.error.message) || 'channel error') }));
  const closed = () => {
    if (channels.get(id) !== c) return;
    channels.delete(id);
    post({ t: 'close', id });
  };
  ch.addEventListener('close', closed);
  if (ch.readyState === 'open') opened();
  else if (ch.readyState === 'closed') closed();
};
onmessage = (e) => {
  const m = e.data;
  if (m.t === 'adopt') return adopt(m.id, m.channel, m.threshold);
  const c = channels.get(m.id);
  if (!c) return;
  if (m.t === 'send') {
    if (c.ch.readyState === 'connecting') return void c.held.push([m.data, m.bytes, m.length]);
    sendNow(m.id, c, m.data, m.bytes, m.length);
    report(m.id, c);
  } else if (m.t === 'threshold') {
    c.ch.bufferedAmountLowThreshold = m.value;
    report(m.id, c);
  } else if (m.t === 'close') {
    c.ch.close();
  }
};
post({ t: 'ready' });
`;
