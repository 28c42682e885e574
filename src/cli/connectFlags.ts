/** The flags `send` and `receive` share, and the connection they lead to. */
import WebSocket from 'ws';
import { shortAuthString } from '../connect/shortAuthString';
import { formatRoomCode } from '../server/roomCode';
import { UsageError } from './exitCodes';
import { joinRoom, RendezvousError, type JoinedRoom } from './joinRoom';
import { loadPeerConnection } from './loadPeerConnection';
import { integerFlag } from './serveCommand';
import { serverUrls, type ServerUrls } from './serverUrls';

/** How long the rendezvous may take to answer the WebSocket upgrade, ms. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Flags of `send` and `receive`. */
export interface ConnectFlags {
  readonly server?: string;
  readonly lanes?: string;
  readonly relay?: boolean;
  readonly 'bind-address'?: string;
  readonly timeout?: string;
}

/** The connect flags, checked (a `UsageError` for a bad one). Commands call it before any slow work. */
export function checkConnectFlags(flags: ConnectFlags): { urls: ServerUrls; lanes: number; timeoutSeconds: number | undefined } {
  const urls = serverUrls(flags.server);
  const lanes = integerFlag('lanes', flags.lanes, 1, 4) ?? 2;
  const timeoutSeconds = integerFlag('timeout', flags.timeout, 1, 86_400);
  if (flags['bind-address'] !== undefined && !/^[0-9a-fA-F.:]+$/.test(flags['bind-address'])) throw new UsageError(`--bind-address must be an IP address, got ${flags['bind-address']}`);
  return { urls, lanes, timeoutSeconds };
}

/** `n min` or `n s`: how long a code lasts. */
export const formatDuration = (ms: number): string => (ms >= 90_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`);

/**
 * Joins (a new room, or `code`'s), connects, prints the SAS; resolves with the room. Fails (a
 * `RendezvousError`) when nobody joins within `--timeout` (default 600 s), when the new room's code
 * expires first (`code-expired`), or when the peer that joined by `code` left before connecting.
 */
export async function connect(
  flags: ConnectFlags,
  code: string | undefined,
  out: NodeJS.WritableStream,
  onWaiting?: (code: string, urls: ServerUrls, validMs: number) => void | Promise<void>,
): Promise<JoinedRoom> {
  const { urls, lanes, timeoutSeconds } = checkConnectFlags(flags);
  const createPeerConnection = await loadPeerConnection();
  // The room owner's code: when it expires, nobody can join any more.
  let expiry: { code: string; at: number } | undefined;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  let giveUp: (error: Error) => void = () => undefined;
  // Between the server's `paired` and a `peer-left`: someone joined, and the connection is being made.
  let paired = false;
  const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
  const armExpiry = (): void => {
    clearTimeout(expiryTimer);
    if (!expiry) return;
    const { code: c, at } = expiry;
    expiryTimer = setTimeout(
      () => giveUp(new RendezvousError('code-expired', `the code ${formatRoomCode(c)} expired and nobody joined; run send again for a new code`)),
      Math.max(0, at - Date.now()),
    );
  };
  const abort = new AbortController();
  const joined = joinRoom({
    signal: abort.signal,
    signalUrl: urls.signalUrl,
    // A server that takes the TCP connection but never answers the upgrade (stopped, overloaded) fails the join
    // after this long instead of leaving the command silent for good.
    createSocket: (url) => new WebSocket(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS }),
    code,
    lanes,
    createPeerConnection,
    relayOnly: flags.relay,
    bindAddress: flags['bind-address'],
    connectTimeoutMs: (timeoutSeconds ?? 20) * 1000,
    onWaiting: (c, _room, _resume, codeExpiresAt) => {
      if (code) return;
      // Back on the same seat after a reconnect: the same code, already printed.
      const again = expiry?.code === c;
      expiry = { code: c, at: codeExpiresAt };
      armExpiry();
      if (!again) void onWaiting?.(c, urls, codeExpiresAt - Date.now());
    },
    onReconnect: (attempt) => out.write(`lost the rendezvous; reconnecting to keep the room (attempt ${attempt})…\n`),
    onPaired: () => {
      paired = true;
      clearTimeout(expiryTimer);
      out.write(code ? `joined ${formatRoomCode(code)}; connecting…\n` : 'the other side joined; connecting…\n');
    },
    onPeerLeft: () => {
      paired = false;
      armExpiry();
      out.write(
        code
          ? 'the other side left before the connection was made; waiting 10 s for it to come back…\n'
          : `the other side left before the connection was made (its connection attempt failed, or it quit); waiting for another receiver${expiry ? ` (the code is valid for ${formatDuration(expiry.at - Date.now())} more)` : ''}…\n`,
      );
    },
  });
  // Nobody joining is a failure too.
  const waitMs = (timeoutSeconds ?? 600) * 1000;
  const timer = setTimeout(() => giveUp(timedOut(waitMs, paired, expiry)), waitMs);
  const room = await Promise.race([joined, gaveUp])
    .catch((error: unknown) => {
      abort.abort();
      throw error;
    })
    .finally(() => {
      clearTimeout(timer);
      clearTimeout(expiryTimer);
    });
  const sas = await shortAuthString(
    room.lanes.map((pc) => pc.localDescription?.sdp ?? ''),
    room.lanes.map((pc) => pc.remoteDescription?.sdp ?? ''),
  ).catch((e: Error) => `unavailable (${e.message})`);
  out.write(`connected (${room.lanes.length} lane${room.lanes.length === 1 ? '' : 's'}${room.iceServers.length ? ', TURN offered' : ''}). SAS ${sas}: check that the other side shows the same\n`);
  return room;
}

/**
 * What `--timeout` ran out on: someone joined and the connection was not made, the code expired (its lifetime
 * and the timeout end together by default), or nobody joined.
 */
export function timedOut(waitMs: number, paired: boolean, expiry: { code: string; at: number } | undefined, now = Date.now()): Error {
  const s = waitMs / 1000;
  if (paired) return new RendezvousError('connect-failed', `the other side joined, but no connection was made within ${s} s (--timeout)`);
  if (expiry && now >= expiry.at - 1000) return new RendezvousError('code-expired', `the code ${formatRoomCode(expiry.code)} expired and nobody joined; run send again for a new code`);
  return new Error(`nobody joined within ${s} s`);
}

/** Longest wait for the other side to hang up after this side ended the session, ms. */
export const LINGER_MS = 3000;

/**
 * Waits until the other side leaves or {@link LINGER_MS} passed: closing at once can cut the last control
 * message (a decline, a cancel, the final confirmation) before it left, and the other side would see a lost
 * connection instead.
 */
export async function lingerForPeer(room: JoinedRoom, ms = LINGER_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([room.peerGone, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
