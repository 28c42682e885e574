/**
 * The command line's side of the rendezvous: joins a room over the server's
 * WebSocket (by code, or a new room), waits for the other peer, and connects
 * one peer connection per lane with the library's `negotiate` (the same
 * messages the web page sends, see src/server/signalling.ts).
 *
 * ```
 * ws open ─▶ waiting {code}  ─▶ onWaiting(code, …, codeExpiresAt)   (sender: print the code and the QR)
 *         ─▶ paired {role, lanes, iceServers} ─▶ lanes × negotiate ─▶ resolve(JoinedRoom)
 *         ─▶ error / full / close before paired ─▶ reject(RendezvousError)
 * paired ─▶ peer-left before the lanes connect ─▶ onPeerLeft()
 *           room owner (no `code`): keeps its seat and waits for the next peer
 *           joined by `code`: waits `peerLeftGraceMs` for the peer to come back, then reject(RendezvousError 'peer-left')
 * ```
 *
 * The socket stays open while the transfer runs: the web page drops its peer
 * connections when the other side's socket closes (`peer-left`).
 *
 * Environment-neutral (no `node:` imports): the command line passes a `ws`
 * socket, a browser page its own `WebSocket` (test/server uses it in Chromium).
 * The steps are in joinRoomInternals.ts.
 */
import type { IceServerJson } from '../server/signalling';
import { joinRoomRun } from './joinRoomInternals';
import type { PeerConnectionOptions } from './loadPeerConnection';

/** The part of a WebSocket (browser, or the `ws` package) joinRoom uses. */
export interface RoomWebSocket {
  readonly readyState: number;
  send(text: string): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** Options of {@link joinRoom}. */
export interface JoinRoomConfig {
  /** `ws(s)://host:port/signal` */
  readonly signalUrl: string;
  /** Opens the socket: `(url) => new WebSocket(url)` (`ws` in Node). */
  readonly createSocket: (url: string) => RoomWebSocket;
  /** Join this code's room; without it, a new room is made and its code reported by `onWaiting`. */
  readonly code?: string;
  /** Join (or, with `resume`, return to) the room of this name. */
  readonly room?: string;
  /** The `resume` token of an earlier `waiting`: take that seat back. */
  readonly resume?: string;
  /** Lanes asked for (the pair uses the smaller number). */
  readonly lanes: number;
  readonly createPeerConnection: (options: PeerConnectionOptions) => RTCPeerConnection;
  /** Only relay candidates (`iceTransportPolicy: 'relay'`). */
  readonly relayOnly?: boolean;
  readonly bindAddress?: string;
  /** Called with the room's code (and the room name, resume token and when the code expires, ms since the epoch) while alone in the room. */
  readonly onWaiting?: (code: string, room: string, resume: string, codeExpiresAt: number) => void;
  /** Called when the paired peer leaves before the lanes connected (its connection attempt failed, or it quit). */
  readonly onPeerLeft?: () => void;
  /**
   * Joined by `code` only: how long to wait for a peer that left before the lanes connected to come back (its
   * socket may have dropped and reconnect with its seat) before failing with `RendezvousError` `peer-left`.
   * Default 10000 ms. The room's owner (no `code`) keeps waiting for the next peer instead.
   */
  readonly peerLeftGraceMs?: number;
  /** Aborting it before the lanes connected closes the socket and the lanes and rejects (`RendezvousError` `aborted`). */
  readonly signal?: AbortSignal;
  /** Called once paired, before negotiation. */
  readonly onPaired?: (role: 'offerer' | 'answerer', lanes: number) => void;
  /** Time allowed for every lane to connect once paired, ms. Default 20000. */
  readonly connectTimeoutMs?: number;
  /**
   * Reconnects (with the room's `resume` token, so the seat, room and code stay) after the socket
   * drops before the lanes connect, e.g. when the server instance restarts. Default 10 attempts.
   */
  readonly reconnectAttempts?: number;
  /** Wait before reconnect attempt n: n × this, at most 5 s. Default 1000 ms. */
  readonly reconnectDelayMs?: number;
  /** Called before each reconnect attempt. */
  readonly onReconnect?: (attempt: number) => void;
}

/** A connected pair. */
export interface JoinedRoom {
  readonly role: 'offerer' | 'answerer';
  readonly lanes: readonly RTCPeerConnection[];
  readonly room: string;
  readonly iceServers: readonly IceServerJson[];
  /** Resolves when the other peer leaves the room or the socket closes. */
  readonly peerGone: Promise<string>;
  /** Closes the lanes and the socket. Idempotent. */
  close(): void;
}

export { RendezvousError } from './RendezvousError';

/** Joins and connects; resolves with the connected lanes. */
export function joinRoom(config: JoinRoomConfig): Promise<JoinedRoom> {
  return new Promise<JoinedRoom>((resolve, reject) => {
    const run = joinRoomRun(config, resolve, reject);
    config.signal?.addEventListener('abort', () => run.abort(), { once: true });
    run.open();
  });
}
