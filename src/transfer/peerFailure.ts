/**
 * Failures across the wire: how a side tells its peer why it failed, and how a peer's `error` message
 * becomes a local error. Shared by both sides of a transfer.
 */
import { TallowError, TransferCancelledError } from '../errors';
import type { ControlLink } from './controlLink';

const CODE = /^ERR_[A-Z0-9_]{1,40}$/;
const CAUSE = /^[A-Za-z0-9_]{1,64}$/;
/** Control characters (C0, DEL, C1) and bidirectional overrides: a peer's text must not drive a terminal or reorder a log line. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A peer's free text (an error message, a cancel or reject reason) as it goes into a local error: each control character becomes U+FFFD. */
export const peerText = (text: string): string => text.replace(UNPRINTABLE, '\ufffd');

/** Failures this side told its peer over a control channel that was open: the session ended on both sides. */
const told = new WeakSet<object>();

/**
 * Whether this side told its peer of `err` over an open control channel: then the connection still carried
 * messages, and the failure is not its loss (a session with `reconnect` does not wait for new connections).
 */
export const peerWasTold = (err: unknown): boolean => typeof err === 'object' && err !== null && told.has(err);

/**
 * Tells the peer why this side failed: `cancel` for a cancellation, else `error` with the code, and the
 * system error's code (`details.causeCode`, e.g. `ENOSPC`) as `cause`.
 */
export function notifyFailure(link: ControlLink | undefined, id: number, e: TallowError): void {
  if (!link) return;
  if (e instanceof TransferCancelledError) {
    link.send({ t: 'cancel', id, reason: String(e.details.reason).slice(0, 1000) });
    return;
  }
  const causeCode = e.details.causeCode;
  const cause = typeof causeCode === 'string' && CAUSE.test(causeCode) ? { cause: causeCode } : {};
  if (link.send({ t: 'error', id, code: e.code, message: e.message.slice(0, 1000), ...cause })) told.add(e);
}

/**
 * A peer's `error` message as a local error: its code when it looks like ours, else `ERR_REMOTE`;
 * `details.remote` is true and `details.causeCode` carries the peer's system error code, if any. The
 * message ends with that code in parentheses, once: a peer's message that already ends so (directoryTarget's
 * "writing a.bin failed (ENOSPC)") is left as it is. Control characters in the peer's text and in `details.remoteCode` become U+FFFD.
 */
export const remoteError = (code: string, text: string, cause?: string): TallowError => {
  const message = peerText(text);
  return new TallowError(CODE.test(code) ? code : 'ERR_REMOTE', cause && !message.endsWith(`(${cause})`) ? `${message} (${cause})` : message, {
    remote: true,
    remoteCode: peerText(code),
    ...(cause ? { causeCode: cause } : {}),
  });
};
