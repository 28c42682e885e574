/**
 * Fuzzing the `decodeFrames` operator (src/operators/decodeFrames.ts) with
 * hostile message streams: valid frames of this and of other transfers,
 * damaged frames, random bytes and non-binary junk, in every message shape a
 * channel delivers (including MessageEvent-like `{ data }`). The operator must
 * emit exactly the frames of its transfer, in order, report every foreign frame
 * to `onUnknownTransfer`, and end with `FrameDecodeError` at the first malformed
 * message (or drop it when `onMalformed` is given), never throwing anything else.
 * Replay a failure with FC_SEED / FC_PATH (see ./fc.ts).
 */
import fc from 'fast-check';
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeFrames, FrameDecodeError, type DecodeFramesConfig } from '../../src/index';
import { decodeFrame, encodeFrame, type DataFrame } from '../../src/protocol';
import { attempt, expectTyped, fcParams } from './fc';
import { expectFrameOf, frameHeader, frameLikeBytes, mutatedFrame, u32, wrap, wrapping } from './frameArbitraries';

/** One message on the wire, and the bytes it carries when it is binary. */
interface Message {
  readonly message: unknown;
  readonly view?: Uint8Array;
}

const binary = (bytes: fc.Arbitrary<Uint8Array>, asEvent: fc.Arbitrary<boolean>): fc.Arbitrary<Message> =>
  fc.tuple(bytes, wrapping(), asEvent).map(([b, w, event]) => {
    const { message, view } = wrap(b, w);
    return { message: event ? { data: message } : message, view };
  });

/** A stream of messages for transfer `id`: its own frames, foreign frames, damaged frames, garbage and junk. */
const messages = (id: number): fc.Arbitrary<Message[]> => {
  const own = frameHeader().map((h) => ({ ...h, transferId: id }));
  const foreign = fc.tuple(frameHeader(), u32()).map(([h, other]) => ({ ...h, transferId: other === id ? (id + 1) >>> 0 : other }));
  const frame = (header: fc.Arbitrary<Parameters<typeof encodeFrame>[0]>) =>
    fc.tuple(header, fc.uint8Array({ maxLength: 64 })).map(([h, d]) => encodeFrame(h, d));
  const junk = fc
    .oneof(fc.string({ maxLength: 20 }), fc.constantFrom(null, undefined, 0, true, {}, { data: 'text' }, { data: null }, [1, 2]))
    .map((message): Message => ({ message }));
  return fc.array(
    fc.oneof(
      { weight: 6, arbitrary: binary(frame(own), fc.boolean()) },
      { weight: 3, arbitrary: binary(frame(foreign), fc.boolean()) },
      { weight: 1, arbitrary: binary(mutatedFrame().map((m) => m.bytes), fc.boolean()) },
      { weight: 1, arbitrary: binary(frameLikeBytes(), fc.boolean()) },
      { weight: 1, arbitrary: junk },
    ),
    { maxLength: 30 },
  );
};

/** The oracle: what `decodeFrame` makes of each message, one at a time. */
const classify = (m: Message): { kind: 'frame'; frame: DataFrame } | { kind: 'bad'; code: string } => {
  const payload =
    m.message !== null && typeof m.message === 'object' && !ArrayBuffer.isView(m.message) && !(m.message instanceof ArrayBuffer) && 'data' in m.message
      ? (m.message as { data: unknown }).data
      : m.message;
  try {
    return { kind: 'frame', frame: decodeFrame(payload) };
  } catch (e) {
    return { kind: 'bad', code: (e as FrameDecodeError).code };
  }
};

/** Runs the operator over `list` synchronously and records everything it does. */
const run = (list: Message[], config: DecodeFramesConfig) => {
  const frames: DataFrame[] = [];
  let error: unknown;
  let completed = false;
  const out = attempt(() =>
    from(list.map((m) => m.message))
      .pipe(decodeFrames(config))
      .subscribe({ next: (f) => frames.push(f), error: (e) => (error = e), complete: () => (completed = true) }),
  );
  if (!out.ok) throw out.error;
  return { frames, error, completed };
};

describe('decodeFrames under hostile message streams', () => {
  it('emits exactly this transfer’s frames, counts foreign ones, and ends with FrameDecodeError at the first malformed message', () => {
    fc.assert(
      fc.property(u32().chain((id) => fc.tuple(fc.constant(id), messages(id))), ([id, list]) => {
        let unknown = 0;
        const got = run(list, { transferId: id, onUnknownTransfer: () => void unknown++ });
        let expectedUnknown = 0;
        const expected: { frame: DataFrame; view: Uint8Array }[] = [];
        let expectedError: string | undefined;
        for (const m of list) {
          const c = classify(m);
          if (c.kind === 'bad') {
            expectedError = c.code;
            break;
          }
          if (c.frame.transferId !== id) expectedUnknown++;
          else expected.push({ frame: c.frame, view: m.view! });
        }
        expect(got.frames.length).toBe(expected.length);
        got.frames.forEach((f, i) => {
          expect(f).toMatchObject({ transferId: id, index: expected[i].frame.index, offset: expected[i].frame.offset });
          expectFrameOf(f, expected[i].view);
        });
        expect(unknown).toBe(expectedUnknown);
        if (expectedError === undefined) {
          expect(got.completed).toBe(true);
          expect(got.error).toBeUndefined();
        } else {
          expectTyped(got.error, FrameDecodeError);
          expect((got.error as FrameDecodeError).code).toBe(expectedError);
          expect(got.completed).toBe(false);
        }
      }),
      fcParams(),
    );
  });

  it('with onMalformed, drops every malformed message, keeps going and completes', () => {
    fc.assert(
      fc.property(u32().chain((id) => fc.tuple(fc.constant(id), messages(id))), ([id, list]) => {
        let unknown = 0;
        const malformed: unknown[] = [];
        // Built as a variable: `onMalformed` is the newest option of DecodeFramesConfig.
        const config = { transferId: id, onUnknownTransfer: () => void unknown++, onMalformed: (e: FrameDecodeError) => void malformed.push(e) };
        const got = run(list, config as DecodeFramesConfig);
        const classes = list.map(classify);
        const own = classes.flatMap((c) => (c.kind === 'frame' && c.frame.transferId === id ? [c.frame] : []));
        expect(got.frames.map((f) => [f.index, f.offset])).toEqual(own.map((f) => [f.index, f.offset]));
        expect(unknown).toBe(classes.filter((c) => c.kind === 'frame' && c.frame.transferId !== id).length);
        expect(malformed.length).toBe(classes.filter((c) => c.kind === 'bad').length);
        for (const e of malformed) expectTyped(e, FrameDecodeError);
        expect(got.error).toBeUndefined();
        expect(got.completed).toBe(true);
      }),
      fcParams(),
    );
  });
});
