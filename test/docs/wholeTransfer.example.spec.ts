import { filter, map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from 'tallow-rx';
import { createVirtualLink } from 'tallow-rx/testing';

/** The events that matter, as letters: o offer, s started, c completed (progress and stats left out). */
const outline = (events$: Observable<TransferEvent>) =>
  events$.pipe(
    filter((e) => e.type === 'offer' || e.type === 'started' || e.type === 'completed'),
    map((e) => e.type[0]),
  );

it('a whole transfer over a lossy link, in virtual time', () => {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run(({ expectObservable }) => {
    // 10 ms one way; 20 % of the data channels' messages lost (the control channel stays clean).
    const link = createVirtualLink({ scheduler, delayMs: 10, lossRate: 0.2, seed: 3, faultFilter: (ch) => ch.label !== 'tallow-control' });
    const file = new Uint8Array(1024 * 1024 + 3).map((_, i) => i % 251);

    const received$ = receiveFile(link.b, { scheduler });
    const sent$ = sendFile(link.a, file, { scheduler, channels: 2, reliability: 'unreliable' });

    // The offer arrives at 10 ms and is accepted at once; the accept reaches the sender at 20 ms. Seven lost
    // chunks are NACKed and resent, so the receiver verifies the file at 300 ms and the sender hears it at 310.
    expectObservable(outline(received$)).toBe('10ms (os) 286ms (c|)', { o: 'o', s: 's', c: 'c' });
    expectObservable(outline(sent$)).toBe('20ms s 289ms (c|)', { s: 's', c: 'c' });
  });
});
