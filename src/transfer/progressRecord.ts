/**
 * `directoryTarget`'s progress record: `<part>.json`, how many bytes of a part file are verified.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Manifest } from '../protocol/control';
import { NOFOLLOW } from './partName';
import { writeError } from './writeError';

/** A part file's progress record, as {@link progressRecord} writes it. */
export interface PartialRecord {
  readonly v: 1;
  readonly name: string;
  readonly size: number;
  readonly lastModified: number | null;
  /** Bytes `[0, persisted)` passed their CRC-32 and were fsynced. */
  readonly persisted: number;
}

/**
 * Writes `manifest`'s progress record at `path`: rewritten in place at one width (that of
 * `persisted = size`, space-padded), never truncated first, so a SIGKILL mid-update leaves the
 * old record or the new one (`writeFile` truncates first, and the next session restarted from 0).
 */
export function progressRecord(path: string, name: string, manifest: Manifest): (persisted: number) => Promise<void> {
  const lastModified = manifest.lastModified ?? null;
  const bytes = (persisted: number) =>
    Buffer.from(JSON.stringify({ v: 1, name: manifest.name, size: manifest.size, lastModified, persisted } satisfies PartialRecord));
  const width = bytes(manifest.size).length;
  return async (persisted) => {
    const out = Buffer.alloc(width, 0x20);
    bytes(persisted).copy(out);
    try {
      const h = await open(path, constants.O_WRONLY | constants.O_CREAT | NOFOLLOW);
      try {
        await h.write(out, 0, out.length, 0);
        // Only a record left by another file can be longer; cut its tail once the new one is whole.
        await h.truncate(out.length);
      } finally {
        await h.close();
      }
    } catch (err) {
      throw writeError('recording progress in', name, err);
    }
  };
}
