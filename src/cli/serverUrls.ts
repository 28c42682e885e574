/**
 * `--server http(s)://host:port` → the rendezvous socket and the web page link.
 *
 * ```
 * http://127.0.0.1:8080      → ws://127.0.0.1:8080/signal,      http://127.0.0.1:8080/?code=ABC-DEF
 * https://send.example.org/  → wss://send.example.org/signal,   https://send.example.org/?code=ABC-DEF
 * ```
 */
import { formatRoomCode } from '../server/roomCode';
import { UsageError } from './exitCodes';

/** The server when neither `--server` nor `TALLOW_RX_SERVER` says. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** Where to signal, and the page link for a code. */
export interface ServerUrls {
  /** The server as given (`--server`, else `TALLOW_RX_SERVER`), undefined for the default. */
  readonly server: string | undefined;
  readonly signalUrl: string;
  pageLink(code: string): string;
}

/** Parses `--server` (http, https, ws or wss). */
export function serverUrls(server: string | undefined): ServerUrls {
  const text = server ?? process.env.TALLOW_RX_SERVER ?? DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server must be a URL such as http://host:8080, got ${text}`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new UsageError(`--server must be http(s) or ws(s), got ${url.protocol}`);
  const base = url.pathname.replace(/\/(signal)?$/, '');
  return {
    server: text === DEFAULT_SERVER ? undefined : text,
    signalUrl: `${secure ? 'wss' : 'ws'}://${url.host}${base}/signal`,
    pageLink: (code) => `${secure ? 'https' : 'http'}://${url.host}${base}/?code=${formatRoomCode(code)}`,
  };
}
