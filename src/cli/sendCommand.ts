/** `tallow-rx send <path>…`: offers files and folders under a new short code. */
import { stat } from 'node:fs/promises';
import { sendFiles } from '../transfer/sendFiles';
import { filesFromPaths } from '../transfer/filesFromPaths';
import { PROFILES as TUNING, type ProfileName } from '../transfer/profiles';
import { formatRoomCode } from '../server/roomCode';
import { checkConnectFlags, connect, formatDuration, lingerForPeer, type ConnectFlags } from './connectFlags';
import { EXIT_INTERRUPTED, UsageError } from './exitCodes';
import { onInterrupt } from './onInterrupt';
import { watchSession, type WatchOutput } from './watchSession';

/** Flags of `send`. */
export interface SendFlags extends ConnectFlags {
  readonly profile?: string;
  readonly 'no-qr'?: boolean;
}

/** What `--profile` takes: the library's profiles (a name it does not know failed only after connecting, and the receiver waited). */
export const PROFILES: readonly string[] = ['auto', ...Object.keys(TUNING)];

/**
 * The QR code of `text` (qrcode, bundled into the CLI): for a terminal, with colour escapes so it
 * scans on a dark background; otherwise (a log, a pipe) plain block characters, no escapes.
 */
async function terminalQr(text: string, tty: boolean): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return tty ? QRCode.toString(text, { type: 'terminal', small: true }) : QRCode.toString(text, { type: 'utf8' });
}

/** Whether `link` answers below 400 within {@link PAGE_PROBE_MS} (the server also serves the web page). */
async function pageServed(link: string): Promise<boolean> {
  try {
    const res = await fetch(link, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(PAGE_PROBE_MS) });
    return res.status < 400;
  } catch {
    return false;
  }
}

/** How long the web page link may take to answer before `send` leaves it out, ms. */
const PAGE_PROBE_MS = 2000;

/** Sends; resolves with the exit code. */
export async function sendCommand(paths: readonly string[], flags: SendFlags, out: WatchOutput): Promise<number> {
  if (!paths.length) throw new UsageError('send needs at least one path');
  if (flags.profile !== undefined && !PROFILES.includes(flags.profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got ${flags.profile}`);
  // Every flag before the paths are walked: a big folder must not delay a usage error.
  checkConnectFlags(flags);
  for (const path of paths) {
    await stat(path).catch(() => {
      throw new UsageError(`no such file or folder: ${path}`);
    });
  }
  const set = await filesFromPaths(paths);
  for (const { path, reason } of set.skipped ?? []) out.stream.write(`left out ${path}: ${reason}\n`);
  const write = (text: string): void => void out.stream.write(text);
  // Ctrl-C while waiting or connecting: nothing to tidy, exit at once.
  let stop = onInterrupt(() => process.exit(EXIT_INTERRUPTED));
  const room = await connect(flags, undefined, out.stream, async (code, urls, validMs) => {
    const link = urls.pageLink(code);
    write(`code: ${formatRoomCode(code)} (valid for ${formatDuration(validMs)})\n`);
    write(`on the other machine: ${receiveHint(code, urls.server)}\n`);
    // The link and its QR code only where the server also serves the web page (`tallow-rx serve` does not: a 404).
    if (!(await pageServed(link))) return;
    write(`or open ${link}\n`);
    if (!flags['no-qr']) write(await terminalQr(link, out.tty));
  }).finally(() => stop());
  const session = watchSession(sendFiles(room.lanes, set, { profile: (flags.profile ?? 'auto') as ProfileName }), 'sending', out);
  // Ctrl-C during the transfer: cancel it on both sides (the receiver hears `cancel` at once).
  stop = onInterrupt(session.cancel);
  const code = await session.done.finally(() => stop());
  if (code === EXIT_INTERRUPTED) await lingerForPeer(room);
  room.close();
  return code;
}

/**
 * The command to run on the other machine: the full `npx` form (node-datachannel is an optional peer that a bare
 * `npx tallow-rx` does not fetch), and `--server` whenever this side's is not the default, also when it came
 * from `TALLOW_RX_SERVER`, which the other machine may not have (a new-user check ran the hint as printed there).
 */
export function receiveHint(code: string, server: string | undefined): string {
  return `npx -p tallow-rx -p rxjs -p node-datachannel tallow-rx receive ${formatRoomCode(code)}${server ? ` --server ${server}` : ''}`;
}
