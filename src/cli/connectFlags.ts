/** The flags `send` and `receive` share, and the connection they lead to. */
import WebSocket from 'ws';
import { shortAuthString } from '../connect/shortAuthString';
import { formatRoomCode } from '../server/roomCode';
import { UsageError } from './exitCodes';
import { joinRoom, type JoinedRoom } from './joinRoom';
import { loadPeerConnection } from './loadPeerConnection';
import { integerFlag } from './serveCommand';
import { serverUrls, type ServerUrls } from './serverUrls';

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

/** Joins (a new room, or `code`'s), connects, prints the SAS; resolves with the room. */
export async function connect(
  flags: ConnectFlags,
  code: string | undefined,
  out: NodeJS.WritableStream,
  onWaiting?: (code: string, urls: ServerUrls) => void | Promise<void>,
): Promise<JoinedRoom> {
  const { urls, lanes, timeoutSeconds } = checkConnectFlags(flags);
  const createPeerConnection = await loadPeerConnection();
  const joined = joinRoom({
    signalUrl: urls.signalUrl,
    createSocket: (url) => new WebSocket(url),
    code,
    lanes,
    createPeerConnection,
    relayOnly: flags.relay,
    bindAddress: flags['bind-address'],
    connectTimeoutMs: (timeoutSeconds ?? 20) * 1000,
    onWaiting: (c) => void onWaiting?.(c, urls),
    onReconnect: (attempt) => out.write(`lost the rendezvous; reconnecting to keep the room (attempt ${attempt})…\n`),
    onPaired: () => out.write(code ? `joined ${formatRoomCode(code)}; connecting…\n` : 'the other side joined; connecting…\n'),
  });
  // Nobody joining is a failure too (the code would expire anyway).
  const waitMs = (timeoutSeconds ?? 600) * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const room = await Promise.race([
    joined,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`nobody joined within ${waitMs / 1000} s`)), waitMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const sas = await shortAuthString(
    room.lanes.map((pc) => pc.localDescription?.sdp ?? ''),
    room.lanes.map((pc) => pc.remoteDescription?.sdp ?? ''),
  ).catch((e: Error) => `unavailable (${e.message})`);
  out.write(`connected (${room.lanes.length} lane${room.lanes.length === 1 ? '' : 's'}${room.iceServers.length ? ', TURN offered' : ''}). SAS ${sas}: check that the other side shows the same\n`);
  return room;
}
