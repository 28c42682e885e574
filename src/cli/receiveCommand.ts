/** `tallow-rx receive <code>`: receives the files offered under a code into a folder, resumably. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SinkWriteError } from '../errors';
import { createInterface } from 'node:readline/promises';
import { receiveFiles } from '../transfer/receiveFiles';
import { directoryTarget } from '../transfer/directoryTarget';
import type { SessionOffer } from '../transfer/SessionEvent';
import { normalizeRoomCode } from '../server/roomCode';
import { checkConnectFlags, connect, lingerForPeer, type ConnectFlags } from './connectFlags';
import { EXIT_INTERRUPTED, UsageError } from './exitCodes';
import { onInterrupt } from './onInterrupt';
import { trackTarget } from './trackTarget';
import { printable } from './printable';
import { formatBytes } from './progressLine';
import { watchSession, type WatchOutput } from './watchSession';

/** Longest wait for the files of a cancelled transfer to be tidied, ms. */
const ABORT_WAIT_MS = 3000;

/** Flags of `receive`. */
export interface ReceiveFlags extends ConnectFlags {
  readonly to?: string;
  readonly yes?: boolean;
}

/** Asks on the terminal; true for y/yes. */
async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // A terminal in raw mode turns Ctrl-C into a readline event, not a signal: pass it on as one.
  rl.on('SIGINT', () => {
    rl.close();
    process.kill(process.pid, 'SIGINT');
  });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Receives; resolves with the exit code. */
export async function receiveCommand(code: string | undefined, flags: ReceiveFlags, out: WatchOutput, interactive: boolean): Promise<number> {
  if (!code) throw new UsageError('receive needs the code the sender shows, e.g. tallow-rx receive ABC-DEF');
  const canonical = normalizeRoomCode(code);
  if (!canonical) throw new UsageError(`not a code: ${code} (six letters and digits, like ABC-DEF)`);
  checkConnectFlags(flags);
  const dir = flags.to ?? '.';
  // Before connecting: a bad --to found after pairing would fail the sender's transfer too.
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new UsageError(`--to must be a folder (or a path to create), got a file: ${dir}`);
  await checkWritable(dir);
  // Ctrl-C while connecting: nothing to tidy, exit at once.
  let stop = onInterrupt(() => process.exit(EXIT_INTERRUPTED));
  const room = await connect(flags, canonical, out.stream).finally(() => stop());
  const accept = async (offer: SessionOffer): Promise<boolean> => {
    const what = `${offer.files.length} file${offer.files.length === 1 ? '' : 's'} (${formatBytes(offer.bytes)})${offer.files.length ? `: ${offer.files.slice(0, 3).map((f) => printable(f.name)).join(', ')}${offer.files.length > 3 ? ', …' : ''}` : ''}`;
    if (flags.yes || !interactive) {
      out.stream.write(`receiving ${what} into ${dir}\n`);
      return true;
    }
    return ask(`accept ${what} into ${dir}? [y/N] `);
  };
  const files = trackTarget(directoryTarget(dir));
  const session = watchSession(receiveFiles(room.lanes, { target: files.target, accept }), 'receiving', out);
  // Ctrl-C during the transfer: cancel it on both sides, and let the target tidy its files first (part files
  // with no bytes go, the verified prefix of the others is recorded for resume).
  stop = onInterrupt(session.cancel);
  const exit = await session.done.finally(() => stop());
  if (exit === EXIT_INTERRUPTED) await files.settled(ABORT_WAIT_MS);
  // After the peer's own cancel or error there is nothing of ours left to deliver: waiting for it to hang up
  // while it waits for us kept both for the whole linger (a sender's Ctrl-C took 3.3 s to exit).
  if (!session.endedByPeer()) await lingerForPeer(room);
  room.close();
  return exit;
}

/**
 * The folder (or, when it is to be created, its nearest existing parent) must be writable by this process:
 * found after pairing, it failed the sender's transfer too, with a message that named no folder.
 */
async function checkWritable(dir: string): Promise<void> {
  let at = resolve(dir);
  while (!(await stat(at).catch(() => undefined)) && dirname(at) !== at) at = dirname(at);
  try {
    await access(at, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code ?? 'EACCES';
    throw new SinkWriteError(`cannot write into ${at === resolve(dir) ? dir : `${at}, where ${dir} would be created`} (${code})`, { path: at, code });
  }
}
