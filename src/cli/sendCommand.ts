/** `tallow-rx send <path>…`: offers files and folders under a new short code. */
import { stat } from 'node:fs/promises';
import { sendFiles } from '../transfer/sendFiles';
import { filesFromPaths } from '../transfer/filesFromPaths';
import type { ProfileName } from '../transfer/profiles';
import { formatRoomCode } from '../server/roomCode';
import { checkConnectFlags, connect, type ConnectFlags } from './connectFlags';
import { UsageError } from './exitCodes';
import { watchSession, type WatchOutput } from './watchSession';

/** Flags of `send`. */
export interface SendFlags extends ConnectFlags {
  readonly profile?: string;
  readonly 'no-qr'?: boolean;
}

const PROFILES = ['auto', 'lan', 'wan', 'lossy', 'mobile', 'satellite'];

/** The QR code of `text` for a terminal (qrcode, bundled into the CLI). */
async function terminalQr(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'terminal', small: true });
}

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
  const room = await connect(flags, undefined, out.stream, async (code, urls) => {
    const link = urls.pageLink(code);
    write(`code: ${formatRoomCode(code)}\n`);
    write(`on the other machine: npx tallow-rx receive ${formatRoomCode(code)}${flags.server ? ` --server ${flags.server}` : ''}\n`);
    write(`or open ${link}\n`);
    if (!flags['no-qr']) write(await terminalQr(link));
  });
  const session = watchSession(sendFiles(room.lanes, set, { profile: (flags.profile ?? 'auto') as ProfileName }), 'sending', out);
  const code = await session.done;
  room.close();
  return code;
}
