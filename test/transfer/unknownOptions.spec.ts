/**
 * A key that is no option of sendFile / sendFiles / receiveFile / receiveFiles (a misspelling such as `maxchunk`
 * or another library's name such as `chunkSize`) is refused at subscription with an `InvalidConfigError` that
 * names it and suggests the nearest option; it was ignored without a word (an outside check's finding). Every
 * option the types declare is still taken: the key lists below are typed `Record<keyof …>`, so an option added
 * to the types and not to the runtime tables fails here.
 */
import type { Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, receiveFile, receiveFiles, sendFile, sendFiles, type ReceiveFilesOptions, type ReceiveOptions, type SendOptions } from '../../src/index';
import { createVirtualLink, type VirtualLink } from '../../src/testing';
import { inVirtualTime } from '../properties/virtualClock';
import { connectLoopbackPair, directoryTarget, filesFromPaths, type DirectoryTargetConfig, type FilesFromPathsConfig, type LoopbackPairConfig } from '../../src/node';
import { createRendezvous, startRendezvousServer, type RendezvousConfig, type RendezvousServerConfig } from '../../src/server/index';
import { checkServerConfig } from '../../src/server/checkServerConfig';

/** The error `run`'s Observable fails with at subscription on a fresh virtual link, and how many channels exist then. */
function atSubscription(run: (pc: VirtualLink['a'], scheduler: TestScheduler) => Observable<unknown>) {
  return inVirtualTime((clock) => {
    const l = createVirtualLink({ scheduler: clock.scheduler });
    let error: unknown;
    run(l.a, clock.scheduler).subscribe({ error: (e) => (error = e) }).unsubscribe();
    const channels = l.a.channels.length;
    l.close();
    return { error, channels };
  });
}

const bytes = new Uint8Array(4);

const SEND_KEYS: Record<keyof SendOptions, true> = {
  channels: true, lanes: true, minChunk: true, maxChunk: true, high: true, low: true, window: true, reliability: true,
  name: true, type: true, lastModified: true, reconnect: true, interruptionGraceMs: true, createConnection: true,
  laneConnectTimeoutMs: true, acceptLaneCandidate: true, rewriteLaneSignal: true, inbandLanes: true, maxLanes: true,
  laneStaggerMs: true, laneController: true, onLaneDecision: true, profile: true, strategy: true, chunking: true,
  route: true, transferId: true, channelIdBase: true, maxMessageSize: true, sendBytesPerTask: true, conditions$: true,
  idleTimeoutMs: true, acceptTimeoutMs: true, progressIntervalMs: true, sampleIntervalMs: true, filesInFlight: true,
  readSize: true, createHash: true, probeTimeoutMs: true, scheduler: true,
};

const RECEIVE_KEYS: Record<keyof ReceiveFilesOptions | keyof ReceiveOptions, true> = {
  target: true, accept: true, maxFiles: true, maxTotalSize: true, maxFileSize: true, maxPathLength: true,
  maxBufferedChunks: true, maxBufferedBytes: true, idleTimeoutMs: true, nackDelayMs: true, maxCorruptRetries: true,
  maxMalformedFrames: true, ackEvery: true, progressIntervalMs: true, sampleIntervalMs: true, createHash: true,
  reconnect: true, interruptionGraceMs: true, createConnection: true, laneConnectTimeoutMs: true,
  acceptLaneCandidate: true, rewriteLaneSignal: true, scheduler: true,
};

describe('unknown option keys', () => {
  it.each([
    ['sendFile', { maxchunk: 1024 }, 'maxchunk', 1024, /sendFile: unknown option "maxchunk" \(did you mean maxChunk\?\)/],
    ['sendFile', { idleTimeout: 5000 }, 'idleTimeout', 5000, /sendFile: unknown option "idleTimeout" \(did you mean idleTimeoutMs\?\)/],
    ['sendFiles', { chunkSize: 65536 }, 'chunkSize', 65536, /sendFiles: unknown option "chunkSize"/],
    ['receiveFile', { maxFilesize: 10 }, 'maxFilesize', 10, /receiveFile: unknown option "maxFilesize" \(did you mean maxFileSize\?\)/],
    ['receiveFiles', { onProgress: () => undefined }, 'onProgress', 'a function', /receiveFiles: unknown option "onProgress"$/],
  ] as const)('%s(%o) fails at subscription naming %s, with nothing created', (where, options, field, value, message) => {
    const { error, channels } = atSubscription((pc, scheduler) => {
      const o = { scheduler, ...options } as never;
      if (where === 'sendFile') return sendFile(pc, bytes, o);
      if (where === 'sendFiles') return sendFiles(pc, [bytes], o);
      if (where === 'receiveFile') return receiveFile(pc, o);
      return receiveFiles(pc, o);
    });
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidConfigError).details).toEqual({ field, value });
    expect(channels).toBe(0);
  });

  it('a bad lastModified is refused like any option (it was not checked at all)', () => {
    const { error } = atSubscription((pc, scheduler) => sendFile(pc, bytes, { scheduler, lastModified: 'yesterday' as never }));
    expect((error as Error).message).toBe('sendFile: lastModified must be a finite number (ms since 1970), got "yesterday"');
  });

  it('every option the types declare is taken (given as undefined: its default)', () => {
    const unset = (keys: object, scheduler: TestScheduler) => ({ ...Object.fromEntries(Object.keys(keys).map((k) => [k, undefined])), scheduler });
    const runs: ((pc: VirtualLink['a'], s: TestScheduler) => Observable<unknown>)[] = [
      (pc, s) => sendFile(pc, bytes, unset(SEND_KEYS, s)),
      (pc, s) => sendFiles(pc, [bytes], unset(SEND_KEYS, s)),
      (pc, s) => receiveFile(pc, unset(RECEIVE_KEYS, s)),
      (pc, s) => receiveFiles(pc, unset(RECEIVE_KEYS, s)),
    ];
    for (const run of runs) {
      expect(atSubscription(run).error).toBeUndefined();
    }
  });
});

describe('unknown config keys of the Node and server functions', () => {
  const DIRECTORY_KEYS: Record<keyof DirectoryTargetConfig, true> = { resume: true, overwrite: true, checkpointEvery: true, maxQueuedBytes: true, fsync: true };
  const PATHS_KEYS: Record<keyof FilesFromPathsConfig, true> = { concurrency: true, maxFiles: true };
  const LOOPBACK_KEYS: Record<keyof LoopbackPairConfig, true> = { lanes: true, maxMessageSize: true, timeoutMs: true };
  const RENDEZVOUS_KEYS: Record<keyof RendezvousConfig, true> = {
    store: true, now: true, codeTtlMs: true, leaseMs: true, roomTtlMs: true, joinsPerAddress: true, joinsPerCode: true,
    messagesPerSecond: true, messageBurst: true, iceServers: true, relayCandidates: true, randomId: true, randomCode: true,
  };
  const SERVER_KEYS: Record<keyof RendezvousServerConfig, true> = {
    ...RENDEZVOUS_KEYS, host: true, port: true, redisUrl: true, turn: true, allowedOrigins: true, trustProxy: true, handler: true, renewEveryMs: true, heartbeatMs: true, maxQueuedBytes: true, firstRequestTimeoutMs: true,
  };
  const unset = (keys: object) => Object.fromEntries(Object.keys(keys).map((k) => [k, undefined]));

  it.each([
    ['directoryTarget', () => directoryTarget('/nonexistent-dir', { overwrites: true } as never), 'overwrites', /directoryTarget: unknown option "overwrites" \(did you mean overwrite\?\)/],
    ['filesFromPaths', () => filesFromPaths(['a'], { concurency: 2 } as never), 'concurency', /filesFromPaths: unknown option "concurency"$/],
    ['connectLoopbackPair', () => connectLoopbackPair({ lane: 2 } as never), 'lane', /connectLoopbackPair: unknown option "lane" \(did you mean lanes\?\)/],
    ['createRendezvous', () => createRendezvous({ codeTTLMs: 5 } as never), 'codeTTLMs', /createRendezvous: unknown option "codeTTLMs" \(did you mean codeTtlMs\?\)/],
    ['startRendezvousServer', () => startRendezvousServer({ host: '127.0.0.1', prot: 0 } as never), 'prot', /startRendezvousServer: unknown option "prot"$/],
    ['startRendezvousServer turn', () => startRendezvousServer({ host: '127.0.0.1', port: 0, turn: { urls: ['turn:127.0.0.1:3478'], secret: 's', ttl: 60 } } as never), 'ttl', /startRendezvousServer: turn: unknown option "ttl"/],
  ] as const)('%s', async (_, run, field, message) => {
    let error: unknown;
    try {
      await run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidConfigError).details).toMatchObject({ field });
  });

  it('every field their types declare is taken', async () => {
    expect(() => directoryTarget('/nonexistent-dir', unset(DIRECTORY_KEYS))).not.toThrow();
    expect(() => createRendezvous(unset(RENDEZVOUS_KEYS))).not.toThrow();
    expect(() => checkServerConfig(unset(SERVER_KEYS))).not.toThrow();
    expect(() => checkServerConfig({ turn: { urls: ['turn:127.0.0.1:3478'], secret: 's', ttlSeconds: undefined } })).not.toThrow();
    await expect(filesFromPaths([], unset(PATHS_KEYS))).resolves.toBeDefined();
    const pair = await connectLoopbackPair(unset(LOOPBACK_KEYS)); // a real node-datachannel pair on 127.0.0.1
    expect(pair.a).toHaveLength(1);
    await pair.close();
  });
});

describe('an input that is no file names its class and the way in (an outside check: "got {}")', () => {
  it.each([
    ['an ArrayBuffer', new ArrayBuffer(10), 'sendFile: file must be a Blob, File, Uint8Array or FileDescriptor (wrap it in new Uint8Array(buffer)), got an ArrayBuffer'],
    ['a ReadableStream', new Blob(['x']).stream(), 'sendFile: file must be a Blob, File, Uint8Array or FileDescriptor (wrap a stream in streamFile(stream, { size })), got a ReadableStream'],
    ['a Map', new Map(), 'sendFile: file must be a Blob, File, Uint8Array or FileDescriptor, got a Map'],
  ])('%s', (_, input, message) => {
    const { error } = atSubscription((pc, scheduler) => sendFile(pc, input as never, { scheduler }));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toBe(message);
  });
});
