/**
 * True in a browser page (where `document` exists): the transfer runs on the browser's own WebRTC stack and
 * the page's main thread. Picks the page defaults of `sendBytesPerTask` and of `auto`'s channel count.
 */
export const isBrowserPage = (): boolean => typeof document !== 'undefined';
