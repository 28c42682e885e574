/**
 * Which new part files `directoryTarget` writes with `O_SYNC` instead of fsyncing them.
 */
import { constants } from 'node:fs';
import type { Manifest } from '../protocol/control';

/**
 * Files up to this size are written with `O_SYNC` instead of being fsynced once written: for a file that
 * arrives in one chunk, that is the same flush with one file-system call less (the small-files row of
 * docs/benchmarks.md). Larger files, written in many chunks, are fsynced at checkpoints and at the end.
 */
export const SYNC_WRITE_MAX_BYTES = 64 * 1024;

/** `O_SYNC` where it means what fsync does (0 elsewhere: Windows maps it to write-through, which may leave metadata behind). */
export const O_SYNC = process.platform === 'win32' ? 0 : ((constants.O_SYNC as number | undefined) ?? 0);

/** True when `manifest`'s new part file should be written with `O_SYNC` ({@link SYNC_WRITE_MAX_BYTES}). */
export const syncWritesFor = (manifest: Manifest): boolean => O_SYNC !== 0 && manifest.size > 0 && manifest.size <= SYNC_WRITE_MAX_BYTES;
