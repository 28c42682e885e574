/**
 * Time-limited TURN credentials in coturn's "TURN REST API" scheme
 * (`use-auth-secret` + `static-auth-secret` in turnserver.conf): the server and
 * coturn share a secret; the username is `<expiry unix seconds>:<id>` and the
 * password is base64(HMAC-SHA1(secret, username)). coturn recomputes the
 * password and refuses a username whose expiry has passed, so a leaked
 * credential stops working by itself.
 *
 * ```
 * turnCredentials({ urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 's', ttlSeconds: 3600 }, 'peer1', 1_700_000_000_000)
 *   → [{ urls: [...], username: '1700003600:peer1', credential: 'base64…' }]
 * ```
 */
import { createHmac } from 'node:crypto';
import type { IceServerJson } from './signalling';

/** A TURN server that accepts REST-API credentials. */
export interface TurnConfig {
  /** `turn:host:port?transport=udp` (and/or `turns:` / `?transport=tcp`) URLs of the coturn instance. */
  readonly urls: readonly string[];
  /** coturn's `static-auth-secret`. */
  readonly secret: string;
  /** How long a credential is valid, seconds. Default 3600. */
  readonly ttlSeconds?: number;
}

/**
 * ICE servers with a fresh credential.
 *
 * @param turn the TURN server and its shared secret
 * @param id who the credential is for (any text without `:`), logged by coturn
 * @param nowMs clock, ms since the epoch. Default `Date.now()`.
 * @return an array of one `RTCIceServer`-shaped entry, ready for `RTCConfiguration.iceServers`
 */
export function turnCredentials(turn: TurnConfig, id: string, nowMs: number = Date.now()): IceServerJson[] {
  const expiry = Math.floor(nowMs / 1000) + (turn.ttlSeconds ?? 3600);
  const username = `${expiry}:${id.replace(/:/g, '')}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return [{ urls: [...turn.urls], username, credential }];
}
