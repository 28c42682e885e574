import { filter, map, Observable, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect, it } from 'vitest';
import { sendFile, receiveFile, type Bytes, type DataChannelLike, type Routed, type TransferEvent } from 'tallow-rx';
import { createVirtualLink } from 'tallow-rx/testing';

/**
 * A router of your own: a weighted round robin that puts `weights[i]` frames in a row on channel i.
 * sendFile adds backpressure, acks, the window, NACKs and retransmission around it.
 */
const weighted =
  (weights: readonly number[]) =>
  (channels: readonly DataChannelLike[]): OperatorFunction<Bytes, Routed> =>
  (frames) =>
    new Observable<Routed>((subscriber) => {
      // Which channel is next, and how many frames it has had in this turn.
      let turn = 0;
      let given = 0;
      return frames.subscribe({
        next: (frame) => {
          // A channel can close mid-transfer (its lane lost): pass it by, or the send fails the transfer.
          for (let tries = 0; channels[turn % channels.length].readyState !== 'open' && tries < channels.length; tries++) {
            turn++;
            given = 0;
          }
          subscriber.next({ channel: channels[turn % channels.length], frame });
          if (++given >= weights[turn % weights.length]) {
            turn++;
            given = 0;
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });

const outline = (events$: Observable<TransferEvent>) =>
  events$.pipe(
    filter((e) => e.type === 'started' || e.type === 'completed'),
    map((e) => e.type[0]),
  );

it('a custom router inside a whole transfer over a lossy link', () => {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  let link!: ReturnType<typeof createVirtualLink>;
  let resent = 0;
  scheduler.run(({ expectObservable }) => {
    // 10 ms one way; 10 % of the data channels' messages lost (the control channel stays clean).
    link = createVirtualLink({ scheduler, delayMs: 10, lossRate: 0.1, seed: 5, faultFilter: (ch) => ch.label !== 'tallow-control' });
    const file = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const sent$ = sendFile(link.a, file, { scheduler, transferId: 1, channels: 2, reliability: 'unreliable', route: weighted([3, 1]) });

    // Lost chunks are NACKed and resent (through the same router) until the receiver verifies the file.
    expectObservable(outline(receiveFile(link.b, { scheduler }))).toBe('10ms s 189ms (c|)', { s: 's', c: 'c' });
    expectObservable(outline(sent$.pipe(map((e) => (e.type === 'completed' && (resent = e.retransmittedBytes ?? 0), e))))).toBe(
      '20ms s 189ms (c|)',
      { s: 's', c: 'c' },
    );
  });
  // Three frames in four went to the first channel.
  const [first, second] = link.a.channels.filter((ch) => ch.label !== 'tallow-control');
  expect(first.stats.messagesSent).toBeGreaterThan(2 * second.stats.messagesSent);
  expect(resent).toBeGreaterThan(0);
});
