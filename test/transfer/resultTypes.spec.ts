/**
 * `completed.result` is typed by the receive target (an outside check: it was `unknown`, so every strict user
 * cast it): `Blob` by default, `string` with `directoryTarget`, `R` with a `ReceiveTarget<R>` of one's own.
 * It is a required field there (the next check: `R | undefined` still made every strict user write `!`), and
 * optional on the sender's events and for a target whose `finish` gives nothing. The `expectTypeOf` lines fail
 * `npm run typecheck` (part of CI) when the types regress; the transfer checks the runtime value is what the
 * type says.
 */
import { lastValueFrom, of, type Observable } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { receiveFile, receiveFiles, sendFile, type FileResult, type ReceiveTarget, type TransferEvent } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';

type EventOf<O> = O extends Observable<infer E> ? E : never;
/** The `result` of a transfer's `completed` event, and the `files` of a session's. */
type CompletedOf<O> = Extract<EventOf<O>, { type: 'completed' }>;
type ResultOf<O> = CompletedOf<O> extends { result?: infer R } ? R : never;
/** Whether `result` is a required field of the `completed` event. */
type Required<O> = CompletedOf<O> extends { result: unknown } ? true : false;
type FilesOf<O> = Extract<EventOf<O>, { type: 'completed' }> extends { files: infer F } ? F : never;

describe('completed.result is typed by the target', () => {
  it('types: Blob by default, string for directoryTarget, R for a ReceiveTarget<R>; required on the receiver', () => {
    const pc = createVirtualLink().b;
    expectTypeOf<ResultOf<ReturnType<typeof receiveFile<Blob>>>>().toEqualTypeOf<Blob>();
    const _byDefault = receiveFile(pc);
    expectTypeOf<ResultOf<typeof _byDefault>>().toEqualTypeOf<Blob>();
    expectTypeOf<Required<typeof _byDefault>>().toEqualTypeOf<true>();
    const _toDisk = receiveFile(pc, { target: directoryTarget('/tmp/x') });
    expectTypeOf<ResultOf<typeof _toDisk>>().toEqualTypeOf<string>();
    expectTypeOf<Required<typeof _toDisk>>().toEqualTypeOf<true>();
    // The sender has no result: optional, and what it is is not known.
    const _sent = sendFile(createVirtualLink().a, new Uint8Array(1));
    expectTypeOf<Required<typeof _sent>>().toEqualTypeOf<false>();
    // A target whose finish gives nothing: optional.
    const quiet: ReceiveTarget<undefined> = { open: () => ({ from: 0, sink: () => of(0), finish: () => undefined, abort: () => undefined }) };
    expectTypeOf<Required<ReturnType<typeof receiveFile<undefined>>>>().toEqualTypeOf<false>();
    void quiet;
    // A receiver's events still go where the sender's do (an app's handler typed for either).
    const handle = (events: Observable<TransferEvent>): Observable<TransferEvent> => events;
    void [handle(_byDefault), handle(_sent), handle(_toDisk)];
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
    const size: number = done.result.size; // compiles only if result is a required Blob
    expect(size).toBe(3);
    expect(done.result).toBeInstanceOf(Blob);
    link.close();
  });
});
