/**
 * Arguments of the wrong type to the functions that take a channel, a list or a stream: the named
 * `InvalidConfigError` at the call (docs/errors.md), where each threw a `TypeError` once it used the value
 * (found by an outside check; the options objects got the same treatment before, see configObject.ts).
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors';
import { bufferedAmountLow } from '../../src/sources/bufferedAmountLow';
import { fromChannelMessages } from '../../src/sources/fromChannelMessages';
import { filesFromDataTransfer, filesFromFileList } from '../../src/transfer/filesFromBrowser';
import { toWritableStream } from '../../src/sinks/toWritableStream';
import { writableTarget } from '../../src/transfer/ReceiveTarget';
import { thrownBy } from '../helpers/thrown';
import { verifyChunk } from '../../src/operators/verifyChunk';
import { fromBlob } from '../../src/sources/fromBlob';
import { fromBytes } from '../../src/sources/fromBytes';
import { fromReadableStream } from '../../src/sources/fromReadableStream';
import { fromFilePath } from '../../src/sources/fromFilePath';
import { fromNodeReadable } from '../../src/sources/fromNodeReadable';
import { Demand } from '../../src/flow/Demand';
import { FramePool } from '../../src/flow/FramePool';
import { shortAuthString } from '../../src/connect/shortAuthString';

/** The error `run` throws (or its promise rejects with). */
const errorOf = async (run: () => unknown): Promise<unknown> => {
  try {
    await run();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('arguments of the wrong type: InvalidConfigError naming the argument, not a TypeError', () => {
  it.each([
    ['bufferedAmountLow(null)', () => bufferedAmountLow(null as never), 'channel', /bufferedAmountLow: channel must be a data channel \(with addEventListener\(\)\), got null/],
    ['bufferedAmountLow({})', () => bufferedAmountLow({} as never), 'channel', /got \{\}/],
    ['fromChannelMessages(null)', () => fromChannelMessages(null as never), 'channel', /fromChannelMessages: channel must be a data channel/],
    ['filesFromFileList(null)', () => filesFromFileList(null as never), 'list', /filesFromFileList: list must be a FileList or an array of Files, got null/],
    ['filesFromFileList(5)', () => filesFromFileList(5 as never), 'list', /got 5/],
    ['filesFromDataTransfer(undefined)', () => filesFromDataTransfer(undefined as never), 'items', /filesFromDataTransfer: items must be a DataTransferItemList/],
    ['toWritableStream(null)', () => toWritableStream(null as never), 'stream', /toWritableStream: stream must be a WritableStream, got null/],
  ])('%s', async (_, run, field, message) => {
    const err = await errorOf(run);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).details).toMatchObject({ field });
    expect((err as Error).message).toMatch(message);
  });

  it('the right types still work: an empty list, a channel-like object', () => {
    expect(filesFromFileList([]).files).toEqual([]);
    const channel = { addEventListener: () => undefined, removeEventListener: () => undefined };
    expect(() => bufferedAmountLow(channel as never).subscribe().unsubscribe()).not.toThrow();
  });
});

describe('writableTarget without its open function (an outside check: it failed mid-transfer with ERR_INTERNAL)', () => {
  it.each([
    ['writableTarget()', undefined, /writableTarget: open must be a function \(manifest\) => WritableStream, got undefined/],
    ['writableTarget(stream)', { getWriter: () => undefined }, /got \{\}/],
  ])('%s is an InvalidConfigError naming open', (_, value, message) => {
    const err = thrownBy(() => writableTarget(value as never));
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).details).toMatchObject({ field: 'open' });
    expect((err as Error).message).toMatch(message);
  });
});

describe('Demand, FramePool and shortAuthString follow the same rule (an outside check: a TypeError, empty details)', () => {
  it.each([
    ['new Demand(null)', () => new Demand(null as never), 'config', 'Demand: config must be an object, got null'],
    ['new Demand({ initial: -1 })', () => new Demand({ initial: -1 }), 'initial', 'Demand: initial must be a number of bytes >= 0, got -1'],
    ['new Demand({ limit: 5 })', () => new Demand({ limit: 5 as never }), 'limit', 'Demand: limit must be a function () => bytes, got 5'],
    ['new FramePool(null)', () => new FramePool(null as never), 'config', 'FramePool: config must be an object, got null'],
    ['new FramePool({ bufferSize: 0 })', () => new FramePool({ bufferSize: 0 }), 'bufferSize', 'FramePool: bufferSize must be an integer >= 1, got 0'],
    ['shortAuthString digits 3', () => shortAuthString('a', 'b', { digits: 3 }), 'digits', 'shortAuthString: digits must be an integer from 4 to 12, got 3'],
    ['shortAuthString groupDigits -1', () => shortAuthString('a', 'b', { groupDigits: -1 }), 'groupDigits', 'shortAuthString: groupDigits must be an integer >= 0, got -1'],
  ])('%s', async (_, run, field, message) => {
    const err = await errorOf(run);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err).toMatchObject({ message, details: { field } });
  });
});

describe('sources and verifyChunk with no input (they threw a TypeError, or failed later with a SourceReadError quoting one)', () => {
  it.each([
    ['verifyChunk(null)', () => verifyChunk(null as never), 'chunk', 'verifyChunk: chunk must be a Chunk (with data: a Uint8Array), got null'],
    ['fromBlob(null)', () => fromBlob(null as never), 'blob', 'fromBlob: blob must be a Blob, got null'],
    ['fromBytes([1, 2])', () => fromBytes([1, 2] as never), 'bytes', 'fromBytes: bytes must be a Uint8Array, got [1,2]'],
    ['fromReadableStream(undefined)', () => fromReadableStream(undefined as never), 'stream', 'fromReadableStream: stream must be a ReadableStream, got undefined'],
    ['fromFilePath(null)', () => fromFilePath(null as never), 'path', 'fromFilePath: path must be a non-empty string, got null'],
    ['fromNodeReadable({})', () => fromNodeReadable({} as never), 'readable', 'fromNodeReadable: readable must be a Node Readable (with read() and on()), got {}'],
  ])('%s is an InvalidConfigError at the call', (_, run, field, message) => {
    const err = thrownBy(run);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err).toMatchObject({ message, details: { field } });
  });
});
