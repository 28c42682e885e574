import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, map, mergeMap, NEVER, Observable, of, Subject, throwError, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidConfigError, LimitExceededError, SinkWriteError } from '../../src/errors';
import { toFile } from '../../src/sinks/toFile';
import { fromFilePath } from '../../src/sources/fromFilePath';
import type { Chunk } from '../../src/types';
import { firstDifference, pattern } from '../helpers/bytes';
import { settle } from '../sources/sourceConformance';
import { thrownBy } from '../helpers/thrown';

/** Every handle opened is wrapped: closes, syncs and writes are recorded. */
const hooks = vi.hoisted(() => ({
  /** `close()` calls per handle opened, in opening order. */
  closes: [] as number[],
  /** `sync()` calls, all handles. */
  syncs: 0,
  /** Positions of the writes, in call order. */
  writes: [] as number[],
  /** Writes running now, and the most ever. */
  running: 0,
  maxRunning: 0,
  /** Makes writes fail with this error. */
  failWrite: undefined as Error | undefined,
  /** Makes each write take this long. */
  writeDelayMs: 0,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const slot = hooks.closes.push(0) - 1;
      const close = handle.close.bind(handle);
      const sync = handle.sync.bind(handle);
      const write = handle.write.bind(handle) as (...a: any[]) => Promise<{ bytesWritten: number }>;
      Object.assign(handle, {
        close: () => {
          hooks.closes[slot]++;
          return close();
        },
        sync: () => {
          hooks.syncs++;
          return sync();
        },
        write: async (...a: any[]) => {
          hooks.writes.push(a[3]);
          hooks.maxRunning = Math.max(hooks.maxRunning, ++hooks.running);
          try {
            if (hooks.writeDelayMs) await new Promise((resolve) => setTimeout(resolve, hooks.writeDelayMs));
            if (hooks.failWrite) throw hooks.failWrite;
            return await write(...a);
          } finally {
            hooks.running--;
          }
        },
      });
      return handle;
    },
  };
});

let dir: string;
let files = 0;
const newPath = () => join(dir, `out${files++}.bin`);
const openFds = () => readdirSync('/proc/self/fd').length;

/** Pieces of `data` as chunks with offsets. */
const chunksOf = (data: Uint8Array, size: number): Chunk[] => {
  const out: Chunk[] = [];
  for (let offset = 0, index = 0; offset < data.length; offset += size, index++) out.push({ index, offset, data: data.subarray(offset, offset + size) });
  return out;
};

/** A deterministic shuffle. */
const shuffled = <T>(items: T[]): T[] => {
  const out = [...items];
  let seed = 12345;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tallow-toFile-'));
});
afterEach(() => {
  Object.assign(hooks, { closes: [], syncs: 0, writes: [], running: 0, maxRunning: 0, failWrite: undefined, writeDelayMs: 0 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toFile', () => {
  it('round-trips a file read by fromFilePath, fsyncs, closes, and emits { path, bytes } once', async () => {
    const data = pattern(3 * 1024 * 1024 + 17, 9);
    const input = newPath();
    await writeFile(input, data);
    const output = newPath();
    const fds = openFds();
    let offset = 0;
    const results = await lastValueFrom(
      fromFilePath(input, { readSize: 64 * 1024 }).pipe(
        map((bytes, index): Chunk => {
          const chunk = { index, offset, data: bytes };
          offset += bytes.length;
          return chunk;
        }),
        toFile(output),
        toArray(),
      ),
    );
    expect(results).toEqual([{ path: output, bytes: data.length }]);
    expect(firstDifference(new Uint8Array(await readFile(output)), data)).toBe(-1);
    expect(hooks.syncs).toBe(1);
    // Input and output handles, each closed once, before the result was emitted.
    expect(hooks.closes).toEqual([1, 1]);
    await vi.waitFor(() => expect(openFds()).toBe(fds));
  });

  it('writes out-of-order chunks at their offsets, one write at a time, in arrival order', async () => {
    const data = pattern(100_000, 4);
    const chunks = shuffled(chunksOf(data, 3000));
    const path = newPath();
    hooks.writeDelayMs = 1;
    const [result] = await lastValueFrom(of(...chunks).pipe(toFile(path), toArray()));
    expect(result).toEqual({ path, bytes: 100_000 });
    expect(firstDifference(new Uint8Array(await readFile(path)), data)).toBe(-1);
    expect(hooks.maxRunning).toBe(1);
    expect(hooks.writes).toEqual(chunks.map((c) => c.offset));
  });

  it('skips the fsync with fsync: false', async () => {
    const path = newPath();
    await lastValueFrom(of(...chunksOf(pattern(10), 4)).pipe(toFile(path, { fsync: false })));
    expect(hooks.syncs).toBe(0);
    expect(hooks.closes).toEqual([1]);
  });

  it("truncates with the default flags 'w'", async () => {
    const path = newPath();
    await writeFile(path, pattern(1000));
    await lastValueFrom(of(...chunksOf(pattern(10), 10)).pipe(toFile(path)));
    expect((await stat(path)).size).toBe(10);
  });

  it("resumes into a partial file with flags 'r+', keeping what it held", async () => {
    const data = pattern(50_000, 6);
    const path = newPath();
    // A partial download: the first 20 000 bytes, then a hole.
    const partial = new Uint8Array(30_000);
    partial.set(data.subarray(0, 20_000));
    await writeFile(path, partial);
    const rest = chunksOf(data, 5000).filter((c) => c.offset >= 20_000);
    const result = await lastValueFrom(of(...rest).pipe(toFile(path, { flags: 'r+' })));
    expect(result).toEqual({ path, bytes: 30_000 });
    expect(firstDifference(new Uint8Array(await readFile(path)), data)).toBe(-1);
  });

  it('creates the file with the given mode', async () => {
    const path = newPath();
    await lastValueFrom(of(...chunksOf(pattern(10), 10)).pipe(toFile(path, { mode: 0o600 })));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('creates an empty file for an empty source', async () => {
    const path = newPath();
    const results = await lastValueFrom(of<Chunk>().pipe(toFile(path), toArray()));
    expect(results).toEqual([{ path, bytes: 0 }]);
    expect((await stat(path)).size).toBe(0);
    expect(hooks.syncs).toBe(1);
  });

  it('never completes for a source that never completes, and closes the file on unsubscribe', async () => {
    const fds = openFds();
    let completed = false;
    const sub = NEVER.pipe(toFile(newPath())).subscribe({ complete: () => (completed = true) });
    await vi.waitFor(() => expect(hooks.closes).toEqual([0]));
    await settle();
    expect(completed).toBe(false);
    sub.unsubscribe();
    await vi.waitFor(() => expect(openFds()).toBe(fds));
    expect(hooks.closes).toEqual([1]);
  });

  it('fails with SinkWriteError carrying the path and the cause when the file cannot be opened', async () => {
    const path = join(dir, 'missing', 'x.bin');
    const result = lastValueFrom(of(...chunksOf(pattern(10), 10)).pipe(toFile(path)));
    await expect(result).rejects.toBeInstanceOf(SinkWriteError);
    const err = (await result.catch((e) => e)) as SinkWriteError;
    expect(err.details).toMatchObject({ path, code: 'ENOENT' });
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it("fails with SinkWriteError for flags 'r+' on a missing file", async () => {
    const path = newPath();
    await expect(lastValueFrom(of<Chunk>().pipe(toFile(path, { flags: 'r+' })))).rejects.toBeInstanceOf(SinkWriteError);
  });

  it('fails with SinkWriteError on a write error, and closes the file once', async () => {
    const cause = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    hooks.failWrite = cause;
    const path = newPath();
    const fds = openFds();
    const result = lastValueFrom(of(...chunksOf(pattern(100), 10)).pipe(toFile(path)));
    const err = (await result.catch((e) => e)) as SinkWriteError;
    expect(err).toBeInstanceOf(SinkWriteError);
    expect(err.cause).toBe(cause);
    expect(err.details).toMatchObject({ path, code: 'ENOSPC', offset: 0, index: 0 });
    await vi.waitFor(() => expect(openFds()).toBe(fds));
    await settle();
    expect(hooks.closes).toEqual([1]);
    expect(hooks.writes).toEqual([0]);
  });

  it('passes a source error through, closes the file and leaves the partial file in place', async () => {
    const boom = new Error('boom');
    const path = newPath();
    const fds = openFds();
    const source = new Subject<Chunk>();
    const done = lastValueFrom(source.pipe(toFile(path)));
    source.next({ index: 0, offset: 0, data: pattern(10) });
    await vi.waitFor(() => expect(hooks.writes).toEqual([0]));
    await settle();
    source.error(boom);
    await expect(done).rejects.toBe(boom);
    await vi.waitFor(() => expect(openFds()).toBe(fds));
    expect(hooks.closes).toEqual([1]);
    expect(hooks.syncs).toBe(0);
    expect(Array.from(await readFile(path))).toEqual(Array.from(pattern(10)));
  });

  it('closes the file on early unsubscribe, leaving the partial file', async () => {
    const path = newPath();
    const fds = openFds();
    const source = new Subject<Chunk>();
    const sub = source.pipe(toFile(path)).subscribe();
    source.next({ index: 0, offset: 0, data: pattern(10) });
    await vi.waitFor(() => expect(hooks.writes).toEqual([0]));
    sub.unsubscribe();
    expect(source.observed).toBe(false);
    await vi.waitFor(() => expect(openFds()).toBe(fds));
    await settle();
    expect(hooks.closes).toEqual([1]);
    expect((await stat(path)).size).toBe(10);
  });

  it('closes the file when unsubscribed while it is still opening', async () => {
    const fds = openFds();
    of<Chunk>({ index: 0, offset: 0, data: pattern(10) }).pipe(toFile(newPath())).subscribe().unsubscribe();
    await vi.waitFor(() => expect(hooks.closes).toEqual([1]));
    await settle();
    expect(openFds()).toBe(fds);
    expect(hooks.writes).toEqual([]);
  });

  it('does not break unsubscription chains', async () => {
    const source = new Subject<Chunk>();
    const sub = source
      .pipe(
        mergeMap((x) => of(x)),
        toFile(newPath()),
        mergeMap((x) => of(x)),
      )
      .subscribe();
    source.next({ index: 0, offset: 0, data: pattern(10) });
    sub.unsubscribe();
    expect(source.observed).toBe(false);
    await vi.waitFor(() => expect(hooks.closes).toEqual([1]));
  });

  it('errors with LimitExceededError when more than maxQueuedBytes wait, and a synchronous source stops', async () => {
    let sent = 0;
    const infinite = new Observable<Chunk>((s) => {
      for (let index = 0; !s.closed; index++) {
        sent++;
        s.next({ index, offset: index * 1000, data: pattern(1000) });
      }
    });
    const fds = openFds();
    const err = await lastValueFrom(infinite.pipe(toFile(newPath(), { maxQueuedBytes: 10_000 }))).catch((e) => e);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.details).toEqual({ limit: 'toFile queued bytes', value: 11_000, max: 10_000 });
    expect(sent).toBe(11);
    await vi.waitFor(() => expect(hooks.closes).toEqual([1]));
    await vi.waitFor(() => expect(openFds()).toBe(fds));
  });

  it('errors on a chunk with an invalid offset', async () => {
    const err = await lastValueFrom(of<Chunk>({ index: 3, offset: -1, data: pattern(1) }).pipe(toFile(newPath()))).catch((e) => e);
    expect(err).toBeInstanceOf(SinkWriteError);
    expect(err.details).toMatchObject({ index: 3, offset: -1 });
    await vi.waitFor(() => expect(hooks.closes).toEqual([1]));
  });

  it('rejects maxQueuedBytes <= 0', () => {
    expect(() => toFile(newPath(), { maxQueuedBytes: 0 })).toThrow(InvalidConfigError);
  });

  it('passes a source error that comes before the file is open through as is, and closes the file', async () => {
    const boom = new Error('early');
    await expect(lastValueFrom(throwError(() => boom).pipe(toFile(newPath())))).rejects.toBe(boom);
    await vi.waitFor(() => expect(hooks.closes).toEqual([1]));
  });
});

describe('toFile: config that is not an object (an outside check)', () => {
  it('null is an InvalidConfigError naming config (it threw a TypeError)', () => {
    const error = thrownBy(() => toFile('out.bin', null as never));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ message: 'toFile: config must be an object, got null', details: { field: 'config', value: null } });
  });
});
