import { isBrowserPage } from './isBrowserPage';

/** `sendBytesPerTask`'s default in a browser page: one Chromium-sized frame (256 KiB) per task of the page. */
export const PAGE_SEND_BYTES_PER_TASK = 256 * 1024;

/**
 * The most frame bytes a sender hands to `send()` in one task of the event loop, by default: in a page
 * (where `document` exists) {@link PAGE_SEND_BYTES_PER_TASK}, so a refill of several frames does not become
 * one long task of the main thread (each `send()` waits for the browser's WebRTC thread); elsewhere
 * (Node, workers) no limit.
 */
export function defaultSendBytesPerTask(): number {
  return isBrowserPage() ? PAGE_SEND_BYTES_PER_TASK : Infinity;
}
