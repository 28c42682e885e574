/**
 * Child side of the two-process tallow-rx benchmark: `receiveFile` on every
 * lane into a discarding target (chunks verified, then dropped). Subscribed
 * before the first await, so it listens before the parent sends.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { receiveFile, type TransferEvent } from '../../src/index';
import type { ChildPeerContext } from '../../harness/spawnPeer';
import { discardTarget } from '../lib/discardTarget';

export default async function tallowReceiver({ lanes }: ChildPeerContext): Promise<{ sha256: string; bytes: number }> {
  const target = discardTarget();
  const events = await lastValueFrom(receiveFile(lanes as any, { target }).pipe(toArray()));
  const done = events.find((e): e is Extract<TransferEvent, { type: 'completed' }> => e.type === 'completed');
  if (!done) throw new Error('no completed event');
  return { sha256: done.sha256, bytes: target.tally.bytes };
}
