import { TestScheduler } from 'rxjs/testing';
import { expect, it } from 'vitest';
import { receiveFile, sendFile } from '../../src/index';
import { createVirtualLink } from '../../src/testing';
import { pattern } from '../helpers/marbles';
it('fail before open', () => {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  const ends: string[] = [];
  ts.run(() => {
    const link = createVirtualLink({ scheduler: ts, delayMs: 5, openDelayMs: 60_000 });
    link.a.addEventListener('connectionstatechange', () => ends.push(`a state ${link.a.connectionState} @${ts.now()}`));
    receiveFile(link.b, { scheduler: ts }).subscribe({ error: (e: any) => ends.push(`receiver ${e.code} ${e.message} @${ts.now()}`), complete: () => ends.push('receiver') });
    sendFile(link.a, pattern(100_000, 1), { scheduler: ts }).subscribe({ error: (e: any) => ends.push(`sender ${e.code} ${e.message} @${ts.now()}`), complete: () => ends.push('sender') });
    ts.schedule(() => link.fail(), 1000);
  });
  console.log(ends.join('\n'));
});
