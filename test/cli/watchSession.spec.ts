/**
 * watchSession's exit code and `endedByPeer`: a receiver whose session ended with the sender's own `cancel` or
 * `error` does not wait for the sender to hang up (both waited for each other for the whole 3 s linger after a
 * sender's Ctrl-C: an outside check measured 3.3 s to exit).
 */
import { PassThrough } from 'node:stream';
import { NEVER, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TallowError, TransferCancelledError, type SessionObservable } from '../../src/index';
import { remoteError } from '../../src/transfer/peerFailure';
import { watchSession } from '../../src/cli/watchSession';

const out = { stream: new PassThrough(), tty: false, columns: () => 80 };
const failing = (error: unknown) => Object.assign(throwError(() => error), { stats$: NEVER, progress$: NEVER }) as unknown as SessionObservable;

describe('watchSession: who ended the session', () => {
  it.each([
    ["the peer's cancel", new TransferCancelledError('remote', 'interrupted'), 1, true],
    ["the peer's error message", remoteError('ERR_SINK_WRITE', 'disk full'), 1, true],
    ['a local cancel (this side unsubscribed its target)', new TransferCancelledError('local'), 1, false],
    ['a local failure', new TallowError('ERR_IDLE_TIMEOUT', 'nothing for 30 s'), 1, false],
    ['the peer declined', new TallowError('ERR_REJECTED', 'declined'), 3, false],
  ])('%s: exit %s, endedByPeer %s', async (_, error, exit, byPeer) => {
    const session = watchSession(failing(error), 'receiving', out);
    expect(await session.done).toBe(exit);
    expect(session.endedByPeer()).toBe(byPeer);
  });

  it('Ctrl-C here (cancel): 130, not ended by the peer', async () => {
    const session = watchSession(Object.assign(NEVER, { stats$: NEVER, progress$: NEVER }) as unknown as SessionObservable, 'sending', out);
    session.cancel();
    expect(await session.done).toBe(130);
    expect(session.endedByPeer()).toBe(false);
  });
});
