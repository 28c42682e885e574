/**
 * Bad input to sendFile / sendFiles / receiveFile / receiveFiles (src/transfer/checkOptions.ts): each fails the
 * returned Observable at subscription, before a channel is created or a message sent, with an
 * `InvalidConfigError` that names the option, shows the value as given (`"10"` is not `10`) and carries
 * `{ field, value }` in `details`; a connection already closed is a `ChannelClosedError`. Found by a user of
 * the packed package: these were checked only by the receiver (the sender waited `acceptTimeoutMs` and then
 * reported an `IdleTimeoutError`), accepted silently, failed later with a `TypeError`, or waited forever.
 */
import { catchError, map, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  ChannelClosedError,
  InvalidConfigError,
  receiveFile,
  receiveFiles,
  sendFile,
  sendFiles,
  streamFile,
  TallowError,
  type FileDescriptor,
  type PeerConnectionLike,
  type ReceiveOptions,
  type SendOptions,
} from '../../src/index';
import { createVirtualLink, createVirtualNetwork, type VirtualLink } from '../../src/testing';
import { inVirtualTime } from '../properties/virtualClock';

/** What a side did on subscription: the error it failed with at once (if any), and the channels that exist. */
interface Outcome {
  readonly error: unknown;
  readonly channels: number;
}

/**
 * Subscribes `start(link, scheduler)` on a fresh virtual link in virtual time, takes the error delivered during
 * the subscription (none when it did not fail at once), unsubscribes and counts the channels on both ends.
 */
function atSubscription(start: (l: VirtualLink, scheduler: TestScheduler) => Observable<unknown>): Outcome {
  return inVirtualTime((clock) => {
    const l = createVirtualLink({ scheduler: clock.scheduler });
    let error: unknown;
    start(l, clock.scheduler).subscribe({ error: (e) => (error = e) }).unsubscribe();
    const channels = l.a.channels.length + l.b.channels.length;
    l.close();
    return { error, channels };
  });
}

/** Expects an `InvalidConfigError` at subscription for `field` = `value`, shown as `quoted`, with nothing created. */
function expectInvalid({ error, channels }: Outcome, field: string, value: unknown, quoted: string): void {
  expect(error, `${field} = ${quoted} fails at subscription`).toBeInstanceOf(InvalidConfigError);
  const e = error as InvalidConfigError;
  expect(e.code).toBe('ERR_INVALID_CONFIG');
  expect(e.message).toContain(field);
  expect(e.message).toMatch(new RegExp(`got ${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  expect(e.details).toEqual({ field, value });
  expect(channels, 'no channel created').toBe(0);
}

const FILE = new Uint8Array(1000);
const send = (options: unknown) => (l: VirtualLink, scheduler: TestScheduler) => sendFile(l.a, FILE, { scheduler, ...(options as SendOptions) });
const receive = (options: unknown) => (l: VirtualLink, scheduler: TestScheduler) => receiveFile(l.b, { scheduler, ...(options as ReceiveOptions) });

/** A descriptor of `size` that reads nothing (it must never be read). */
const descriptorOf = (size: number): FileDescriptor => ({ name: 'x.bin', size, type: '', seekable: true, read: () => of() });

describe('sendFile: options only the receiver checked (the sender waited acceptTimeoutMs, then IdleTimeoutError)', () => {
  it('transferId not an integer in [0, 2^32 - 1]', () => {
    for (const [value, quoted] of [[-1, '-1'], [2 ** 40, '1099511627776'], [1.5, '1.5'], ['7', '"7"']] as const) {
      expectInvalid(atSubscription(send({ transferId: value })), 'transferId', value, quoted);
    }
  });

  it('maxMessageSize negative or too small to carry a frame header and one byte', () => {
    for (const [value, quoted] of [[-1, '-1'], [32, '32'], ['65536', '"65536"'], [Number.NaN, 'NaN']] as const) {
      expectInvalid(atSubscription(send({ maxMessageSize: value })), 'maxMessageSize', value, quoted);
    }
    expect(atSubscription(send({ maxMessageSize: 33 })).error).toBeUndefined();
  });

  it('a file size that is negative or not a safe integer (streamFile, a FileDescriptor)', () => {
    const stream = new ReadableStream<Uint8Array>();
    expectInvalid(atSubscription((l, scheduler) => sendFile(l.a, streamFile(stream, { size: -1 }), { scheduler })), 'size', -1, '-1');
    expectInvalid(atSubscription((l, scheduler) => sendFile(l.a, descriptorOf(-5), { scheduler })), 'size', -5, '-5');
    expectInvalid(atSubscription((l, scheduler) => sendFile(l.a, descriptorOf(2 ** 53), { scheduler })), 'size', 2 ** 53, '9007199254740992');
    expectInvalid(atSubscription((l, scheduler) => sendFile(l.a, descriptorOf('10' as unknown as number), { scheduler })), 'size', '10', '"10"');
    expectInvalid(atSubscription((l, scheduler) => sendFiles(l.a, [FILE, descriptorOf(0.5)], { scheduler })), 'size', 0.5, '0.5');
    const e = atSubscription((l, scheduler) => sendFile(l.a, descriptorOf(-5), { scheduler })).error as Error;
    expect(e.message).toBe('file "x.bin": size must be an integer in [0, 2^53 - 1], got -5');
  });
});

describe('sendFile: tuning, profile and the file itself (an outside check: `channels: "3"` said "got 3", details `{ channels: "3" }`)', () => {
  it('channels or lanes out of range or not a number, an unknown profile, a file that is no file', () => {
    expectInvalid(atSubscription(send({ channels: '3' })), 'channels', '3', '"3"');
    expectInvalid(atSubscription(send({ channels: 17 })), 'channels', 17, '17');
    expectInvalid(atSubscription(send({ lanes: '2', channels: 4 })), 'lanes', '2', '"2"');
    expectInvalid(atSubscription(send({ profile: 'wan' })), 'profile', 'wan', '"wan"');
    expect((atSubscription(send({ profile: 'wan' })).error as Error).message).toBe(
      'sendFile: profile must be one of "auto", "lan", "wifi", "internet", "poor", "mobile", got "wan"',
    );
    expectInvalid(atSubscription((l, scheduler) => sendFile(l.a, null as never, { scheduler })), 'file', null, 'null');
    expectInvalid(atSubscription((l, scheduler) => sendFile(l.a, 42 as never, { scheduler })), 'file', 42, '42');
  });
});

describe('sendFile / sendFiles: the other tuning and lane options (an outside check: no field or value, no "sendFile:", blaming an option not given)', () => {
  it('an option out of range on its own names itself and its value as given', () => {
    const cases: [string, unknown, string][] = [
      ['reliability', 'maybe', '"maybe"'], // "unknown reliability maybe", details {}
      ['minChunk', -1, '-1'], // "chunk bounds are inconsistent"
      ['maxChunk', '65536', '"65536"'],
      ['window', -1, '-1'], // "window must hold at least two chunks"
      ['window', Infinity, 'Infinity'],
      ['high', -5, '-5'], // "backpressure needs 0 <= low < high", details { low: 262144, high: -5 }
      ['high', 16 * 1024 * 1024, '16777216'],
      ['low', -1, '-1'],
      ['inbandLanes', 99, '99'], // "inbandLanes must be an integer in 0..15", details { inbandLanes: 99 }
      ['maxLanes', 0, '0'],
      ['filesInFlight', 65, '65'],
      ['sendBytesPerTask', -1, '-1'],
      ['laneController', null, 'null'],
    ];
    for (const [field, value, quoted] of cases) {
      const o = atSubscription(send({ [field]: value }));
      expectInvalid(o, field, value, quoted);
      expect((o.error as Error).message).toMatch(new RegExp(`^sendFile: ${field} must be `));
    }
    expect((atSubscription(send({ high: -5 })).error as Error).message).toBe('sendFile: high must be a number > 0 and at most 16515072 (the 16 MiB send queue less one message), got -5');
    expectInvalid(atSubscription((l, scheduler) => sendFiles(l.a, [FILE], { scheduler, reliability: 'maybe' as never })), 'reliability', 'maybe', '"maybe"');
    expect((atSubscription((l, scheduler) => sendFiles(l.a, [FILE], { scheduler, maxLanes: 0 })).error as Error).message).toBe('sendFiles: maxLanes must be an integer in [1, 16], got 0');
  });

  it('two options that disagree: the one given is named with its value, the other with its own (and whether the profile gave it)', () => {
    const cases: [SendOptions, string, Record<string, unknown>][] = [
      [{ high: 100_000 }, 'sendFile: high must be > low (262144 from the profile), got 100000', { field: 'high', value: 100_000, low: 262_144 }],
      [{ low: 2_000_000 }, 'sendFile: low must be < high (1048576 from the profile), got 2000000', { field: 'low', value: 2_000_000, high: 1_048_576 }],
      [{ low: 300_000, high: 200_000 }, 'sendFile: low must be < high (200000), got 300000', { field: 'low', value: 300_000, high: 200_000 }],
      [{ maxChunk: 16_384, minChunk: 32_768 }, 'sendFile: maxChunk must be >= minChunk (32768), got 16384', { field: 'maxChunk', value: 16_384, minChunk: 32_768 }],
      [{ profile: 'internet', minChunk: 200_000 }, 'sendFile: minChunk must be <= maxChunk (131072 from the profile), got 200000', { field: 'minChunk', value: 200_000, maxChunk: 131_072 }],
      [{ window: 1000 }, 'sendFile: window must be >= 2 × maxChunk (2 × 262144 from the profile), got 1000', { field: 'window', value: 1000, maxChunk: 262_144 }],
      [{ profile: 'internet', maxChunk: 5_000_000 }, 'sendFile: maxChunk must be at most half of window (8388608 from the profile), got 5000000', { field: 'maxChunk', value: 5_000_000, window: 8_388_608 }],
    ];
    for (const [options, message, details] of cases) {
      const { error, channels } = atSubscription(send(options));
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidConfigError);
      expect((error as Error).message).toBe(message);
      expect((error as InvalidConfigError).details).toEqual(details);
      expect(channels).toBe(0);
    }
  });
});

describe('sendFile / sendFiles: options accepted silently or failing late', () => {
  it('a *Ms option negative, not a finite number, or longer than a timer takes (2^31 - 1 ms)', () => {
    const cases: [string, unknown, string][] = [
      // Past setTimeout's limit a timer fires at once (an outside check: acceptTimeoutMs 2^31 failed the sender in 242 ms).
      ['acceptTimeoutMs', 2 ** 31, '2147483648'],
      ['interruptionGraceMs', 1e10, '10000000000'],
      ['sampleIntervalMs', 1e10, '10000000000'],
      ['progressIntervalMs', 1e10, '10000000000'],
      ['idleTimeoutMs', -5, '-5'],
      ['idleTimeoutMs', '5s', '"5s"'],
      ['idleTimeoutMs', 'x', '"x"'],
      ['idleTimeoutMs', Infinity, 'Infinity'],
      ['acceptTimeoutMs', 0, '0'],
      ['acceptTimeoutMs', '120000', '"120000"'],
      ['probeTimeoutMs', -1, '-1'],
      ['progressIntervalMs', 0, '0'],
      ['sampleIntervalMs', Number.NaN, 'NaN'],
      ['laneStaggerMs', -250, '-250'],
      ['laneConnectTimeoutMs', '10s', '"10s"'],
      ['interruptionGraceMs', -1, '-1'],
    ];
    for (const [field, value, quoted] of cases) expectInvalid(atSubscription(send({ [field]: value })), field, value, quoted);
  });

  it("strategy not 'round-robin' or 'least-buffered'", () => {
    const o = atSubscription(send({ strategy: 'random' }));
    expectInvalid(o, 'strategy', 'random', '"random"');
    expect((o.error as Error).message).toBe('sendFile: strategy must be one of "round-robin", "least-buffered", got "random"');
  });

  it('route or chunking given but not a function (route: a strategy name threw an uncaught TypeError later)', () => {
    expectInvalid(atSubscription(send({ route: 'round-robin' })), 'route', 'round-robin', '"round-robin"');
    expectInvalid(atSubscription(send({ chunking: 16384 })), 'chunking', 16384, '16384');
    expectInvalid(atSubscription(send({ onLaneDecision: true })), 'onLaneDecision', true, 'true');
  });

  it('the options argument not an object', () => {
    for (const [value, quoted] of [['lan', '"lan"'], [null, 'null'], [42, '42']] as const) {
      expectInvalid(atSubscription((l) => sendFile(l.a, FILE, value as unknown as SendOptions)), 'options', value, quoted);
    }
    expectInvalid(atSubscription((l) => sendFiles(l.a, [FILE], 'lan' as unknown as SendOptions)), 'options', 'lan', '"lan"');
  });

  it('sendFiles: files neither an array nor a FileSet', () => {
    expectInvalid(atSubscription((l, scheduler) => sendFiles(l.a, null as never, { scheduler })), 'files', null, 'null');
  });
});

describe('sendFile: connections', () => {
  it('a connection without createDataChannel (null, {}) is an InvalidConfigError, not a TypeError', () => {
    // details.value is plain data: an object shows as its JSON.
    for (const [pc, value, quoted] of [[null, null, 'null'], [{}, '{}', '{}'], ['pc', 'pc', '"pc"']] as const) {
      expectInvalid(atSubscription((_l, scheduler) => sendFile(pc as unknown as PeerConnectionLike, FILE, { scheduler })), 'connection', value, quoted);
    }
    const lanes = atSubscription((l, scheduler) => sendFile([l.a, {} as PeerConnectionLike], FILE, { scheduler }));
    expectInvalid(lanes, 'connection 1', '{}', '{}');
  });

  it('a closed virtual link is a ChannelClosedError at once (it was a DOMException InvalidStateError)', () => {
    const { error, channels } = atSubscription((l, scheduler) => (l.close(), sendFile(l.a, FILE, { scheduler })));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).message).toBe('sendFile: connection is closed (connectionState "closed")');
    expect((error as ChannelClosedError).details).toMatchObject({ lane: 0, connectionState: 'closed' });
    expect(channels).toBe(0);
  });

  it('a closed virtual RTCPeerConnection (signalingState "closed") is a ChannelClosedError at once', () => {
    inVirtualTime((clock) => {
      const net = createVirtualNetwork({ scheduler: clock.scheduler });
      const pc = net.createConnection();
      pc.close();
      let error: unknown;
      sendFiles(pc, [FILE], { scheduler: clock.scheduler }).subscribe({ error: (e) => (error = e) });
      expect(error).toBeInstanceOf(ChannelClosedError);
      expect((error as ChannelClosedError).details).toMatchObject({ connectionState: 'closed', signalingState: 'closed' });
      net.close();
    });
  });
});

describe('receiveFile / receiveFiles', () => {
  it('options accepted silently: a negative or non-numeric limit or timeout, a target without open, accept not a function', () => {
    const cases: [string, unknown, string][] = [
      ['idleTimeoutMs', -5, '-5'],
      ['idleTimeoutMs', '5s', '"5s"'],
      ['nackDelayMs', 0, '0'],
      ['maxFileSize', -1, '-1'],
      ['maxFileSize', '10', '"10"'],
      ['maxTotalSize', Number.NaN, 'NaN'],
      ['maxFiles', -1, '-1'],
      ['maxPathLength', '1024', '"1024"'],
      ['maxBufferedChunks', 0, '0'],
      ['maxBufferedBytes', -1, '-1'],
      ['maxCorruptRetries', -1, '-1'],
      ['ackEvery', 0, '0'],
      ['target', 'downloads', '"downloads"'],
      ['accept', true, 'true'],
    ];
    for (const [field, value, quoted] of cases) expectInvalid(atSubscription(receive({ [field]: value })), field, value, quoted);
    expectInvalid(atSubscription((l, scheduler) => receiveFiles(l.b, { scheduler, maxFileSize: -1 })), 'maxFileSize', -1, '-1');
  });

  it('the options argument not an object (null threw a TypeError when called)', () => {
    expectInvalid(atSubscription((l) => receiveFile(l.b, 'lan' as unknown as ReceiveOptions)), 'options', 'lan', '"lan"');
    expect(() => receiveFile({} as PeerConnectionLike, null as unknown as ReceiveOptions)).not.toThrow();
    expectInvalid(atSubscription((l) => receiveFile(l.b, null as unknown as ReceiveOptions)), 'options', null, 'null');
    expectInvalid(atSubscription((l) => receiveFiles(l.b, [] as never)), 'options', '[]', '[]');
  });

  it('a connection without createDataChannel is an InvalidConfigError', () => {
    expectInvalid(atSubscription((_l, scheduler) => receiveFile({} as PeerConnectionLike, { scheduler })), 'connection', '{}', '{}');
    expectInvalid(atSubscription((_l, scheduler) => receiveFiles(null as unknown as PeerConnectionLike, { scheduler })), 'connection', null, 'null');
  });

  it('a closed connection fails at once with ChannelClosedError, even with idleTimeoutMs 500 (it emitted nothing, forever)', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ expectObservable }) => {
      // Bounds the flush: a receiver that waits forever must fail this test, not hang it.
      testScheduler.maxFrames = 10_000;
      const l = createVirtualLink();
      l.close();
      const outcome = receiveFile(l.b, { idleTimeoutMs: 500 }).pipe(
        map((e) => e.type),
        catchError((e: TallowError) => of(`${e.name} ${e.code}`)),
      );
      expectObservable(outcome).toBe('(x|)', { x: 'ChannelClosedError ERR_CHANNEL_CLOSED' });
    });
  });
});

describe('names the protocol cannot carry (an outside check of the docs: a 1,025-character name was a ProtocolError, not the documented refusal)', () => {
  it('receiveFiles: maxPathLength above 1,024 (the longest name a control message carries) is an InvalidConfigError; 1,024 is fine', () => {
    expectInvalid(atSubscription(receive({ maxPathLength: 2000 })), 'maxPathLength', 2000, '2000');
    expectInvalid(atSubscription(receive({ maxPathLength: Infinity })), 'maxPathLength', Infinity, 'Infinity');
    expect(atSubscription(receive({ maxPathLength: 1024 })).error).toBeUndefined();
  });

  it('sendFiles with a file or folder name over 1,024 characters fails at subscription, nothing created', () => {
    const long = `${'d/'.repeat(400)}${'n'.repeat(300)}.bin`;
    for (const set of [{ files: [{ ...descriptorOf(10), name: long }] }, { files: [descriptorOf(10)], folders: [long] }]) {
      const { error, channels } = atSubscription((l, scheduler) => sendFiles(l.a, set, { scheduler }));
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect((error as Error).message).toBe(`a name of ${long.length} characters: the protocol carries at most 1024`);
      expect(channels).toBe(0);
    }
    // 1,024 exactly goes.
    const fits = 'n'.repeat(1020) + '.bin';
    expect(atSubscription((l, scheduler) => sendFiles(l.a, { files: [{ ...descriptorOf(10), name: fits }] }, { scheduler })).error).toBeUndefined();
  });
});
