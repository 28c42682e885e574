/** What the directoryTarget specs share: a manifest, chunks, writing through a sink, temp folders. */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { afterEach, vi } from 'vitest';
import type { Manifest } from '../../src/protocol/control';
import type { OpenedTarget, ReceiveTarget } from '../../src/transfer/ReceiveTarget';
import type { Chunk } from '../../src/types';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** The chunk size of every manifest here. */
export const CHUNK = 64 * KiB;

/** A manifest for `name` of `size` bytes in 64 KiB chunks (`lastModified` only when given). */
export const manifestFor = (name: string, size: number, lastModified?: number): Manifest =>
  ({
    id: 1,
    name,
    size,
    type: 'application/octet-stream',
    ...(lastModified === undefined ? {} : { lastModified }),
    channels: 1,
    lanes: 1,
    idBase: 512,
    reliability: 'reliable',
    chunk: { min: CHUNK, max: CHUNK },
    digest: 'sha-256',
    window: 64 * MiB,
  }) as Manifest;

/** `data[start, end)` as consecutive chunks numbered from 0. */
export const chunksOf = (data: Uint8Array, start = 0, end = data.length): Chunk[] => {
  const out: Chunk[] = [];
  for (let offset = start, index = 0; offset < end; offset += CHUNK, index++) out.push({ index, offset, data: data.subarray(offset, Math.min(end, offset + CHUNK)) });
  return out;
};

/** Writes `data[opened.from, end)` through the sink; resolves with the bytes it persisted. */
export const write = (opened: OpenedTarget, data: Uint8Array, end = data.length) => lastValueFrom(from(chunksOf(data, opened.from, end)).pipe(opened.sink), { defaultValue: 0 });

/**
 * Leaves a partial of `data` as a transfer that lost its connection after `bytes` does: all of them
 * verified when the target checkpoints every {@link CHUNK} and `bytes` is a multiple of it.
 */
export const partialOf = async (target: ReceiveTarget, manifest: Manifest, data: Uint8Array, bytes: number): Promise<void> => {
  const opened = await target.open(manifest);
  await write(opened, data, bytes);
  await opened.abort(new Error('connection lost'));
};

/** The rejection of `p`, or undefined when it resolves. */
export const failure = (p: unknown): Promise<unknown> =>
  Promise.resolve(p).then(
    () => undefined,
    (e: unknown) => e,
  );

/** A fresh temp folder per call, removed after each test (call at the spec's top level). */
export function tempDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** Spies on FileHandle.prototype.sync (the class is not exported: found from a handle made in `d`). */
export const spySync = async (d: string) => {
  const probe = join(d, '.probe');
  const h = await open(probe, 'w');
  const proto = Object.getPrototypeOf(h) as { sync: () => Promise<void> };
  await h.close();
  await rm(probe);
  return vi.spyOn(proto, 'sync');
};
