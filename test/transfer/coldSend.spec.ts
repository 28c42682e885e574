/**
 * What subscribing twice to one `sendFile` / `sendFiles` Observable does. The events and their `stats$` and
 * `progress$` views share one transfer while it runs, so two subscriptions at once see one session (one receiver
 * gets one file, and both subscribers its events); a subscription after it ended starts a new session with a new
 * transfer id. The docs called the Observable cold, which an outside check took to mean two transfers at once:
 * these pin what it does, as the docs now say.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, sendFiles, type TransferEvent } from '../../src/index';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { sha256Hex } from '../helpers/sha256';

const bytes = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff);
const events = <T,>(o: { pipe: (...a: any[]) => any }) => lastValueFrom(o.pipe(toArray())) as Promise<T[]>;
/** The session id: a file's manifest (sendFile) or the session's offer (sendFiles). */
const idOf = (es: { type: string }[]) => {
  const started = es.find((e) => e.type === 'started') as { manifest?: { id: number }; offer?: { id: number } } | undefined;
  return started?.manifest?.id ?? started?.offer?.id;
};
const blobOf = async (es: TransferEvent[]) => new Uint8Array(await ((es.find((e) => e.type === 'completed') as Extract<TransferEvent, { type: 'completed' }>).result as Blob).arrayBuffer());

const senders: [string, (l: VirtualLink) => ReturnType<typeof sendFile> | ReturnType<typeof sendFiles>][] = [
  ['sendFile', (l) => sendFile(l.a, bytes)],
  ['sendFiles', (l) => sendFiles(l.a, [bytes])],
];

describe('one send Observable subscribed twice', () => {
  it.each(senders)('%s, one after the other: two sessions with their own ids, each file received', async (_, make) => {
    const link = createVirtualLink();
    const send$ = make(link);
    const ids: (number | undefined)[] = [];
    for (let i = 0; i < 2; i++) {
      const received = events<TransferEvent>(receiveFile(link.b));
      const sent = await events<{ type: string }>(send$);
      expect(sent.at(-1)?.type).toBe('completed');
      ids.push(idOf(sent));
      expect(sha256Hex(await blobOf(await received))).toBe(sha256Hex(bytes));
    }
    link.close();
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it.each(senders)('%s, both at once: one shared session, both subscribers see it complete', async (_, make) => {
    const link = createVirtualLink();
    const send$ = make(link);
    const received = events<TransferEvent>(receiveFile(link.b));
    const sent = await Promise.all([events<{ type: string }>(send$), events<{ type: string }>(send$)]);
    expect(sha256Hex(await blobOf(await received))).toBe(sha256Hex(bytes));
    link.close();
    expect(sent.map((s) => s.at(-1)?.type)).toEqual(['completed', 'completed']);
    expect(idOf(sent[0])).toBe(idOf(sent[1]));
    expect(sent[0].filter((e) => e.type === 'started')).toHaveLength(1);
  });
});
