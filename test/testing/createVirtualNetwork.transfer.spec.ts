/** A whole sendFile/receiveFile transfer over one lane of a lossy virtual network, in virtual time. */
import { catchError, filter, last, map, merge, of, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile, type TransferEvent } from '../../src';
import { createVirtualNetwork, type VirtualNetworkStats } from '../../src/testing';
import { testScheduler } from '../helpers/marbles';

/** How a side's stream ended: `completed`, or the error's code. */
const outcome = (side: string, events$: Observable<TransferEvent>): Observable<string> =>
  events$.pipe(
    filter((e) => e.type === 'completed'),
    last(),
    map(() => `${side} completed`),
    catchError((err: { code?: string }) => of(`${side} ${err.code ?? 'error'}`)),
  );

describe('createVirtualNetwork with a whole transfer', () => {
  it.each([
    ['reliable', 0.01],
    ['unreliable', 0.02],
  ] as const)('moves 1 MiB over one %s lane of a lossy bottleneck (the digest checks the bytes)', (reliability, lossRate) => {
    const scheduler = testScheduler();
    const file = new Uint8Array(1024 * 1024 + 7).map((_, i) => (i * 31) % 251);
    const outcomes: string[] = [];
    let stats!: VirtualNetworkStats;
    let doneAt = 0;
    scheduler.run(() => {
      const net = createVirtualNetwork({ scheduler, rateBytesPerSecond: 1_250_000, queueBytes: 65_536, delayMs: 25, lossRate });
      const lane = net.createLink();
      const received$ = receiveFile(lane.b, { scheduler });
      const sent$ = sendFile(lane.a, file, { scheduler, transferId: 1, channels: 2, reliability });
      merge(outcome('sender', sent$), outcome('receiver', received$)).subscribe({
        next: (o) => outcomes.push(o),
        complete: () => {
          stats = net.stats();
          doneAt = scheduler.now();
          net.close();
        },
      });
    });
    expect(outcomes.sort()).toEqual(['receiver completed', 'sender completed']);
    expect(stats.randomLosses).toBeGreaterThan(0);
    expect(stats.lanes[0].retransmissions).toBeGreaterThan(0);
    // 1 MiB at no more than 1.25 MB/s takes at least 0.8 s of virtual time.
    expect(doneAt).toBeGreaterThan(800);
  });
});
