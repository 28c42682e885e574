/**
 * A transfer started on a node-datachannel connection that is already closed (on loopback): the polyfill's
 * `connectionState` reads `closed` (its `signalingState` stays `stable`). The sender threw node-datachannel's
 * plain `Error` ("createDataChannel() called on destroyed peer connection") and the receiver waited forever;
 * both now fail at subscription with `ChannelClosedError`, as README promises for a lost connection.
 */
import { lastValueFrom, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, receiveFile, sendFile } from '../../src/index';
import { connectLoopbackPair } from '../../src/node';

/** The error `source` fails with during its subscription; undefined when it did not fail at once. */
const errorAtSubscription = (source: Observable<unknown>): unknown => {
  let error: unknown;
  source.subscribe({ error: (e) => (error = e) }).unsubscribe();
  return error;
};

describe('a closed node-datachannel connection', () => {
  it('sendFile and receiveFile fail at once with ChannelClosedError, details naming the state', async () => {
    const pair = await connectLoopbackPair();
    await pair.close();
    const sent = errorAtSubscription(sendFile(pair.a[0], new Uint8Array(10)));
    expect(sent).toBeInstanceOf(ChannelClosedError);
    expect((sent as ChannelClosedError).message).toBe('sendFile: connection is closed (connectionState "closed")');
    expect((sent as ChannelClosedError).details).toMatchObject({ lane: 0, connectionState: 'closed' });
    const received = errorAtSubscription(receiveFile(pair.b[0], { idleTimeoutMs: 500 }));
    expect(received).toBeInstanceOf(ChannelClosedError);
    // Given as a list of lanes, and awaited: it rejects rather than waiting for an accept.
    await expect(lastValueFrom(sendFile(pair.a, new Uint8Array(10)))).rejects.toBeInstanceOf(ChannelClosedError);
  });
});
