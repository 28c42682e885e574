/**
 * `completed.result` is typed by the receive target (an outside check: it was `unknown`, so every strict user
 * cast it): `Blob` by default, `string` with `directoryTarget`, `R` with a `ReceiveTarget<R>` of one's own. The
 * `expectTypeOf` lines fail `npm run typecheck` (part of CI) when the types regress; the transfer checks the
 * runtime value is what the type says.
 */
import { lastValueFrom, of, type Observable } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { receiveFile, receiveFiles, sendFile, type FileResult, type ReceiveTarget } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';

type EventOf<O> = O extends Observable<infer E> ? E : never;
/** The `result` of a transfer's `completed` event, and the `files` of a session's. */
type ResultOf<O> = Extract<EventOf<O>, { type: 'completed' }> extends { result?: infer R } ? R | undefined : never;
type FilesOf<O> = Extract<EventOf<O>, { type: 'completed' }> extends { files: infer F } ? F : never;

describe('completed.result is typed by the target', () => {
  it('types: Blob by default, string for directoryTarget, R for a ReceiveTarget<R>', () => {
    const pc = createVirtualLink().b;
    expectTypeOf<ResultOf<ReturnType<typeof receiveFile<Blob>>>>().toEqualTypeOf<Blob | undefined>();
    const _byDefault = receiveFile(pc);
    expectTypeOf<ResultOf<typeof _byDefault>>().toEqualTypeOf<Blob | undefined>();
    const _toDisk = receiveFile(pc, { target: directoryTarget('/tmp/x') });
    expectTypeOf<ResultOf<typeof _toDisk>>().toEqualTypeOf<string | undefined>();
    const counting: ReceiveTarget<number> = { open: () => ({ from: 0, sink: () => of(0), finish: () => 42, abort: () => undefined }) };
    const _session = receiveFiles(pc, { target: counting });
    expectTypeOf<FilesOf<typeof _session>>().toEqualTypeOf<readonly FileResult<number>[]>();
    const _sessionByDefault = receiveFiles(pc);
    expectTypeOf<FilesOf<typeof _sessionByDefault>>().toEqualTypeOf<readonly FileResult<Blob>[]>();
  });

  it('at run time the default target gives a Blob, used without a cast', async () => {
    const link = createVirtualLink({ delayMs: 1 });
    const received = lastValueFrom(receiveFile(link.b));
    await lastValueFrom(sendFile(link.a, new Uint8Array([1, 2, 3])));
    const done = await received;
    if (done.type !== 'completed') throw new Error(`ended with ${done.type}`);
    const size: number | undefined = done.result?.size; // a Blob's field: compiles only if result is typed
    expect(size).toBe(3);
    expect(done.result).toBeInstanceOf(Blob);
    link.close();
  });
});
