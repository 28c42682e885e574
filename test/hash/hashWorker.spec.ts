/**
 * The hash worker's protocol (src/hash/hashWorkerProtocol.ts) without a browser: `serveHashRequests` on a
 * fake worker scope, and `startHashWorker` on a fake Worker that runs that same body in this thread and
 * passes messages through `structuredClone` with their transfer lists, as postMessage does (a transferred
 * buffer is detached on the sending side).
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { from } from 'rxjs';
import { HashMismatchError } from '../../src/errors';
import { HashWorkerError } from '../../src/hash/HashWorkerError';
import { crc32InWorker } from '../../src/hash/crc32InWorker';
import { repairChunks } from '../../src/operators/repairChunks';
import { serveHashRequests } from '../../src/hash/hashWorker';
import { startHashWorker, type WorkerLike } from '../../src/hash/hashWorkerClient';
import type { HashWorkerReply, HashWorkerRequest } from '../../src/hash/hashWorkerProtocol';
import { pattern } from '../helpers/bytes';

const MiB = 1024 * 1024;
const nodeSha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  parts.forEach((p) => h.update(p));
  return h.digest('hex');
};
/**
 * Collected replies, buffers given back apart (with whether they were in the transfer list); `until(n)`
 * resolves once there are `n` replies (the WASM load is asynchronous).
 */
function collector() {
  const replies: HashWorkerReply[] = [];
  const buffers: { bytes: number; transferred: boolean }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const postMessage = (m: HashWorkerReply, transfer?: Transferable[]) => {
    if (m.t === 'buffer') return void buffers.push({ bytes: m.buffer.byteLength, transferred: transfer?.[0] === m.buffer });
    replies.push(m);
    for (const w of waiters) if (replies.length >= w.n) w.resolve();
  };
  const until = (n: number) => new Promise<void>((resolve) => (replies.length >= n ? resolve() : waiters.push({ n, resolve })));
  return { replies, buffers, postMessage, until };
}

/** A worker scope whose replies are collected, and a way to send it requests. */
function fakeScope() {
  const c = collector();
  let listener: ((e: { data: HashWorkerRequest }) => void) | undefined;
  serveHashRequests({ postMessage: c.postMessage, addEventListener: (_t, l) => (listener = l) });
  return { ...c, send: (m: HashWorkerRequest) => listener!({ data: m }) };
}

/** A Worker look-alike running `serveHashRequests` here; `fail(message)` fires its `error` event. */
function fakeWorker(options: { start?: boolean; create?: Parameters<typeof serveHashRequests>[1] } = {}) {
  const listeners: Record<string, ((e: any) => void)[]> = { message: [], error: [] };
  const posted: HashWorkerRequest[] = [];
  // Each update's view as posted: [byteOffset, byteLength, its buffer's byteLength] (the worker detaches it later).
  const updates: number[][] = [];
  // The same for each crc request, with its piece count.
  const crcs: number[][] = [];
  let terminated = false;
  let toScope: ((e: { data: HashWorkerRequest }) => void) | undefined;
  const emit = (type: string, e: unknown) => listeners[type].forEach((l) => l(e));
  const worker: WorkerLike = {
    postMessage(m, transfer) {
      const data = structuredClone(m, { transfer }) as HashWorkerRequest;
      posted.push(data);
      if (data.t === 'update') updates.push([data.data.byteOffset, data.data.byteLength, data.data.buffer.byteLength]);
      if (data.t === 'crc') crcs.push([data.data.byteOffset, data.data.byteLength, data.data.buffer.byteLength, data.lengths.length]);
      queueMicrotask(() => toScope?.({ data }));
    },
    addEventListener: (type, l) => listeners[type].push(l),
    terminate: () => void (terminated = true),
  };
  if (options.start !== false) {
    queueMicrotask(() =>
      serveHashRequests(
        { postMessage: (m, transfer) => queueMicrotask(() => !terminated && emit('message', { data: structuredClone(m, { transfer }) })), addEventListener: (_t, l) => (toScope = l) },
        options.create,
      ),
    );
  }
  return { worker, posted, updates, crcs, terminated: () => terminated, fail: (message: string) => emit('error', { message, preventDefault() {} }) };
}

describe('serveHashRequests (the worker body)', () => {
  it('says ready, then hashes interleaved hashers in order and answers CRC-32', async () => {
    const { replies, buffers, send, until } = fakeScope();
    await until(1);
    expect(replies).toEqual([{ t: 'ready' }]);
    const a = pattern(100_000, 1);
    const b = pattern(70_001, 2);
    send({ t: 'open', id: 1 });
    send({ t: 'open', id: 2 });
    send({ t: 'update', id: 1, data: a.subarray(0, 50_000) });
    send({ t: 'update', id: 2, data: b });
    send({ t: 'update', id: 1, data: a.subarray(50_000) });
    const pieces = new Uint8Array(a.length + b.length);
    pieces.set(a);
    pieces.set(b, a.length);
    send({ t: 'crc', id: 3, data: pieces, lengths: [a.length, 0, b.length] });
    send({ t: 'digest', id: 2 });
    send({ t: 'digest', id: 1 });
    await until(4);
    // CRC-32 answers at once; the digests once each hasher's WASM loaded (in either order).
    // One CRC per piece (an empty one too); the buffer came back with them.
    expect(replies[1]).toEqual({ t: 'crc', id: 3, values: [zlibCrc(a), 0, zlibCrc(b)], buffer: pieces.buffer });
    expect(replies.slice(2).sort((x, y) => (x as { id: number }).id - (y as { id: number }).id)).toEqual([
      { t: 'digest', id: 1, hex: nodeSha(a) },
      { t: 'digest', id: 2, hex: nodeSha(b) },
    ]);
    // Each update's buffer went back (hashers run independently), in the transfer list; whole buffers: `a`'s twice.
    expect(buffers.sort((x, y) => x.bytes - y.bytes)).toEqual([
      { bytes: 70_001, transferred: true },
      { bytes: 100_000, transferred: true },
      { bytes: 100_000, transferred: true },
    ]);
  });

  it('a crc with sha hashes its bytes into that hasher after its earlier updates, then answers the CRCs; an unknown sha answers error for both ids', async () => {
    const { replies, buffers, send, until } = fakeScope();
    await until(1);
    const a = pattern(90_000, 3);
    const b = pattern(40_000, 4);
    send({ t: 'open', id: 1 });
    send({ t: 'update', id: 1, data: a.slice(0, 1000) });
    const batch = new Uint8Array(a.length - 1000 + b.length);
    batch.set(a.subarray(1000));
    batch.set(b, a.length - 1000);
    send({ t: 'crc', id: 2, data: batch, lengths: [a.length - 1000, b.length], sha: 1 });
    send({ t: 'digest', id: 1 });
    send({ t: 'crc', id: 3, data: new Uint8Array(8), lengths: [8], sha: 9 });
    await until(5);
    const byId = (id: number) => replies.filter((r) => (r as { id?: number }).id === id);
    expect(byId(2)).toEqual([{ t: 'crc', id: 2, values: [zlibCrc(a.subarray(1000)), zlibCrc(b)], buffer: batch.buffer }]);
    // The digest covers the update and the batch, in that order.
    expect(byId(1)).toEqual([{ t: 'digest', id: 1, hex: nodeSha(a, b) }]);
    expect(byId(9).map((r) => r.t)).toEqual(['error']);
    expect(byId(3)).toEqual([{ t: 'error', id: 3, message: 'hasher 9 is not open' }]);
    // The update's buffer and the refused crc's came back apart; the answered crc's came with its answer.
    expect(buffers.map((x) => x.bytes).sort((x, y) => x - y)).toEqual([8, 1000]);
  });

  it('a crc whose pieces do not add up to its bytes answers error and hands the buffer back', async () => {
    const { replies, buffers, send, until } = fakeScope();
    await until(1);
    send({ t: 'crc', id: 5, data: new Uint8Array(10), lengths: [4, 5] });
    send({ t: 'crc', id: 6, data: new Uint8Array(10), lengths: [12, -2] });
    send({ t: 'crc', id: 7, data: new Uint8Array(10), lengths: [10] });
    await until(4);
    expect(replies.slice(1).map((r) => [r.t, (r as { id?: number }).id])).toEqual([
      ['error', 5],
      ['error', 6],
      ['crc', 7],
    ]);
    expect((replies[1] as { message: string }).message).toBe('crc pieces [4, 5] do not add up to the 10 B sent');
    expect(buffers).toEqual([
      { bytes: 10, transferred: true },
      { bytes: 10, transferred: true },
    ]);
  });

  it('answers error for requests outside the table: no hasher, opened twice, after digest or close', async () => {
    const { replies, buffers, send, until } = fakeScope();
    await until(1);
    send({ t: 'update', id: 9, data: new Uint8Array(1) });
    send({ t: 'open', id: 1 });
    send({ t: 'open', id: 1 });
    send({ t: 'digest', id: 1 });
    send({ t: 'digest', id: 1 });
    send({ t: 'open', id: 2 });
    send({ t: 'close', id: 2 });
    send({ t: 'digest', id: 2 });
    send({ t: 'hash', id: 4 } as unknown as HashWorkerRequest);
    await until(7);
    expect(replies.slice(1).map((r) => [r.t, (r as { id?: number }).id, (r as { message?: string }).message])).toEqual([
      ['error', 9, 'hasher 9 is not open'],
      ['error', 1, 'hasher 1 is already open'],
      ['error', 1, 'hasher 1 is not open'],
      ['error', 2, 'hasher 2 is not open'],
      ['error', 4, 'unknown request "hash"'],
      ['digest', 1, undefined],
    ]);
    expect(buffers).toEqual([{ bytes: 1, transferred: true }]);
  });

  it('where WebAssembly may not run (a CSP): says unavailable, and a hasher answers error once and is gone', async () => {
    const { replies, postMessage, until } = collector();
    let listener!: (e: { data: HashWorkerRequest }) => void;
    serveHashRequests({ postMessage, addEventListener: (_t, l) => (listener = l) }, () => Promise.reject(new Error('no wasm')));
    listener({ data: { t: 'open', id: 1 } });
    listener({ data: { t: 'update', id: 1, data: new Uint8Array(3) } });
    listener({ data: { t: 'digest', id: 1 } });
    const none = new Uint8Array(0);
    listener({ data: { t: 'crc', id: 2, data: none, lengths: [0] } });
    await until(3);
    expect(replies).toHaveLength(3);
    expect(replies).toEqual(expect.arrayContaining([{ t: 'unavailable', message: 'no wasm' }, { t: 'crc', id: 2, values: [0], buffer: none.buffer }, { t: 'error', id: 1, message: 'no wasm' }]));
  });
});

describe('startHashWorker (the page side)', () => {
  it('gives hashers whose digests come from the worker; bytes go batched in pooled 1 MiB buffers that come back; the caller keeps its own', async () => {
    const fake = fakeWorker();
    const client = (await startHashWorker(() => fake.worker))!;
    expect(client).toBeDefined();
    const big = pattern(300_000, 5);
    const view = big.subarray(1000, 201_000);
    const h1 = client.createSha256();
    const h2 = client.createSha256();
    h1.update(view);
    h2.update(big);
    h1.update(big.subarray(0, 10));
    const [d1, d2] = await Promise.all([h1.digestHex(), h2.digestHex()]);
    expect(d1).toBe(nodeSha(view, big.subarray(0, 10)));
    expect(d2).toBe(nodeSha(big));
    // Not detached, unchanged: what was transferred was a copy of the view's bytes only.
    expect(big.byteLength).toBe(300_000);
    expect(Buffer.from(big).equals(pattern(300_000, 5))).toBe(true);
    // Each hasher's updates went in one message, at its digest: h1's two in one buffer.
    expect(fake.updates).toEqual([
      [0, 200_010, MiB],
      [0, 300_000, MiB],
    ]);
    // Both came back with the digests: the next hasher reuses one instead of allocating.
    expect(client.buffers).toEqual({ allocated: 2, reused: 0 });
    const h3 = client.createSha256();
    const large = pattern(MiB + MiB / 2 + 7, 6);
    h3.update(large.subarray(0, 1000));
    h3.update(large.subarray(1000));
    // A full buffer goes at once; the rest waits for the digest.
    expect(fake.updates.slice(2)).toEqual([[0, MiB, MiB]]);
    expect(await h3.digestHex()).toBe(nodeSha(large));
    expect(fake.updates.slice(3)).toEqual([[0, MiB / 2 + 7, MiB]]);
    expect(client.buffers).toEqual({ allocated: 2, reused: 2 });
    // CRC-32 of a batch: copied into a pooled buffer that comes back; the caller's bytes stay.
    expect(await client.crc32Batch([view, big.subarray(0, 10), big])).toEqual([zlibCrc(view), zlibCrc(big.subarray(0, 10)), zlibCrc(big)]);
    expect(fake.crcs).toEqual([[0, 500_010, MiB, 3]]);
    expect(Buffer.from(big).equals(pattern(300_000, 5))).toBe(true);
    expect(client.buffers).toEqual({ allocated: 2, reused: 3 });
    // A batch larger than a pooled buffer goes in a buffer of its own, which the pool does not keep.
    expect(await client.crc32Batch([large])).toEqual([zlibCrc(large)]);
    expect(fake.crcs[1]).toEqual([0, large.length, large.length, 1]);
    expect(client.buffers).toEqual({ allocated: 2, reused: 3 });
    // One chunk's worth goes in a 256 KiB buffer of the small pool, reused by the next.
    expect(await client.crc32Batch([big.subarray(0, 100_000)])).toEqual([zlibCrc(big.subarray(0, 100_000))]);
    expect(await client.crc32Batch([big.subarray(0, 256 * 1024)])).toEqual([zlibCrc(big.subarray(0, 256 * 1024))]);
    expect(fake.crcs.slice(2)).toEqual([
      [0, 100_000, 256 * 1024, 1],
      [0, 256 * 1024, 256 * 1024, 1],
    ]);
    expect(client.buffers).toEqual({ allocated: 2, reused: 3 });
    expect(client.sent).toEqual({ open: 3, update: 4, digest: 3, close: 0, crc: 4 });
    // With MAX_CRC_BUFFERS_OUT (8) buffers of a size at the worker, the next request says undefined: the worker is behind.
    const piece = big.subarray(0, 1000);
    const out = Array.from({ length: 8 }, () => client.crc32Batch([piece]));
    expect(out.every((p) => p instanceof Promise)).toBe(true);
    expect(client.crc32Batch([piece])).toBeUndefined();
    // A 1 MiB-pool request is still free to go.
    expect(client.crc32Batch([big])).toBeInstanceOf(Promise);
    expect(await Promise.all(out)).toEqual(out.map(() => [zlibCrc(piece)]));
    expect(await client.crc32Batch([piece])).toEqual([zlibCrc(piece)]);
  });

  it("a hasher's crc32Batch hands its chunks over once for both hashes, after its pending update; it never says undefined", async () => {
    const fake = fakeWorker();
    const client = (await startHashWorker(() => fake.worker))!;
    const file = pattern(3 * MiB + 5, 7);
    const h = client.createSha256();
    h.update(file.subarray(0, 10));
    const first = h.crc32Batch([file.subarray(10, 100_000), file.subarray(100_000, MiB)]);
    // The 10 B given to update went first, in their own message; then one crc request naming the hasher.
    expect(fake.posted.map((m) => [m.t, m.t === 'crc' ? m.sha : undefined])).toEqual([
      ['open', undefined],
      ['update', undefined],
      ['crc', 1],
    ]);
    expect(await first).toEqual([zlibCrc(file.subarray(10, 100_000)), zlibCrc(file.subarray(100_000, MiB))]);
    // With every pooled buffer out (the worker behind), it still takes one: the bytes must reach the hasher.
    const parts = [MiB, 2 * MiB, 3 * MiB].map((end, i) => file.subarray(i ? end - MiB : MiB, end)).slice(1);
    const out = Array.from({ length: 8 }, () => client.crc32Batch([file.subarray(0, 1000)]));
    const later = [h.crc32Batch([parts[0]]), h.crc32Batch([parts[1]]), h.crc32Batch([file.subarray(3 * MiB)])];
    expect(later.every((p) => p instanceof Promise)).toBe(true);
    expect(await Promise.all(later)).toEqual([[zlibCrc(parts[0])], [zlibCrc(parts[1])], [zlibCrc(file.subarray(3 * MiB))]]);
    await Promise.all(out);
    expect(await h.digestHex()).toBe(nodeSha(file));
    expect(client.sent).toMatchObject({ update: 1, digest: 1, crc: 12 });
  });

  it('no worker when spawning throws (no Worker, a CSP that forbids blob: workers)', async () => {
    expect(
      await startHashWorker(() => {
        throw new DOMException('denied by the Content Security Policy', 'SecurityError');
      }),
    ).toBeUndefined();
  });

  it('no worker, and the failed one terminated, when it errors before ready (a script that cannot load)', async () => {
    const fake = fakeWorker({ start: false });
    const started = startHashWorker(() => fake.worker);
    fake.fail('blocked');
    expect(await started).toBeUndefined();
    expect(fake.terminated()).toBe(true);
  });

  it('no worker, and the worker terminated, when it says unavailable (no WebAssembly)', async () => {
    const fake = fakeWorker({ create: () => Promise.reject(new Error('wasm-unsafe-eval')) });
    expect(await startHashWorker(() => fake.worker)).toBeUndefined();
    expect(fake.terminated()).toBe(true);
  });

  it('a worker that fails after ready rejects waiting and later digests with HashWorkerError', async () => {
    const fake = fakeWorker();
    const client = (await startHashWorker(() => fake.worker))!;
    const h = client.createSha256();
    h.update(pattern(10));
    const waiting = h.digestHex();
    fake.fail('out of memory');
    await expect(waiting).rejects.toBeInstanceOf(HashWorkerError);
    await expect(client.createSha256().digestHex()).rejects.toMatchObject({ code: 'ERR_HASH_WORKER', message: 'hash worker failed: out of memory' });
    expect(fake.terminated()).toBe(true);
  });

  it("an update that failed in the worker rejects that hasher's digest with the worker's reason", async () => {
    const failing = async () => ({ init: () => undefined, digest: () => '', update: () => { throw new Error('bad bytes'); } });
    const fake = fakeWorker({ create: failing });
    const client = (await startHashWorker(() => fake.worker))!;
    const h = client.createSha256();
    // A full buffer goes at once; its failure comes back before the digest is asked for.
    h.update(pattern(MiB));
    await new Promise<void>((resolve) => setImmediate(resolve));
    await expect(h.digestHex()).rejects.toMatchObject({ name: 'HashWorkerError', message: 'hash worker: bad bytes', details: { id: 1 } });
    expect(client.sent.digest).toBe(0);
  });

  it("an error answer rejects that hasher's digest", async () => {
    const fake = fakeWorker();
    const client = (await startHashWorker(() => fake.worker))!;
    const h = client.createSha256();
    await h.digestHex();
    await expect(h.digestHex()).rejects.toMatchObject({ name: 'HashWorkerError', message: expect.stringMatching(/is not open/) });
  });

  it("checks frames with the worker's CRC-32s: a corrupted chunk is NACKed, then fails with HashMismatchError and its index", async () => {
    const fake = fakeWorker();
    const client = (await startHashWorker(() => fake.worker))!;
    const frame = (index: number, corrupt = false) => {
      const data = pattern(5000, index + 1);
      const checksum = zlibCrc(data);
      if (corrupt) data[17] ^= 0x40;
      return { index, offset: index * 5000, data, checksum };
    };
    const nacks: number[][] = [];
    const out: number[] = [];
    const failed = new Promise<unknown>((resolve) =>
      from([frame(0), frame(1, true), frame(2), frame(1, true)])
        .pipe(
          crc32InWorker({ attach: (f: ReturnType<typeof frame>, crc) => ({ ...f, actualChecksum: crc }), worker: async () => client }),
          repairChunks({ nack: (i) => nacks.push(i), checksumOf: (f) => f.actualChecksum, maxCorruptRetries: 1 }),
        )
        .subscribe({ next: (f) => out.push(f.index), error: resolve }),
    );
    const err = await failed;
    // The four frames went to the worker in one request; the good ones passed, the bad one was NACKed once.
    expect(fake.crcs).toEqual([[0, 20_000, 256 * 1024, 4]]);
    expect(out).toEqual([0, 2]);
    expect(nacks).toEqual([[1]]);
    expect(err).toBeInstanceOf(HashMismatchError);
    const corrupt = frame(1, true);
    expect(err).toMatchObject({ index: 1, algorithm: 'crc32', expected: zlibCrc(frame(1).data).toString(16).padStart(8, '0'), actual: zlibCrc(corrupt.data).toString(16).padStart(8, '0') });
  });
});
