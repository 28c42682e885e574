/**
 * The CLI's summary counts as "already here" only what was not moved: a resume the sender refused (`restart`,
 * the held prefix differed) starts the file again from 0, and its bytes all moved (an outside check saw
 * "300.0 MiB in 9.9 s (…, 100.0 MiB of it already here)" after such a restart).
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { savedAs, sessionDisplay } from '../../src/cli/watchSessionInternals';
import { summaryLines } from '../../src/cli/progressLine';
import type { SessionEvent } from '../../src/index';

const MiB = 1024 * 1024;
const manifest = { index: 0, name: 'big.bin', size: 300 * MiB } as unknown as Extract<SessionEvent, { type: 'started' }>['files'][number];
const offer = { id: 1, files: [manifest], bytes: 300 * MiB } as unknown as Extract<SessionEvent, { type: 'started' }>['offer'];

/** The summary `sessionDisplay` writes for `events`. */
function summary(events: SessionEvent[]): string {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  const display = sessionDisplay('receive', { stream, tty: false, columns: () => 200 });
  for (const e of events) display.show(e);
  return text;
}

const started: SessionEvent = { type: 'started', offer, files: [manifest], bytes: 300 * MiB, from: 100 * MiB };
const completed: SessionEvent = { type: 'completed', files: [{ manifest, sha256: 'a'.repeat(64) }], bytes: 300 * MiB, seconds: 10 };

describe('sessionDisplay: the summary after a resume', () => {
  it('a resume taken up: 100 MiB of the 300 already here', () => {
    expect(summary([started, { type: 'file-started', manifest, from: 100 * MiB }, completed])).toContain('100.0 MiB of it already here');
  });

  it('a resume the sender refused (file-started again from 0): nothing counted as already here', () => {
    const text = summary([started, { type: 'file-started', manifest, from: 100 * MiB }, { type: 'file-started', manifest, from: 0 }, completed]);
    expect(text).toContain('300.0 MiB');
    expect(text).not.toContain('already here');
  });

  it('the sender side, whose file starts once, after the prefix check, from 0: nothing counted as already here', () => {
    expect(summary([started, { type: 'file-started', manifest, from: 0 }, completed])).not.toContain('already here');
  });
});

describe('savedAs: where a received file landed, when not under its sent name (a new-user check: the summary hid notes (1).txt)', () => {
  it.each([
    ['notes.txt', '/home/u/in/notes (1).txt', 'notes (1).txt'],
    ['notes.txt', '/home/u/in/notes.txt', undefined],
    ['dir/a.bin', '/home/u/in/dir/a (1).bin', 'dir/a (1).bin'],
    ['dir/a.bin', 'C:\\in\\dir\\a.bin', undefined],
    ['a.bin', undefined, undefined],
  ] as const)('%s landed at %s → %s', (name, result, expected) => {
    expect(savedAs(name, result)).toBe(expected);
  });

  it('the summary shows it', () => {
    const [line] = summaryLines([{ path: 'notes.txt', savedAs: 'notes (1).txt', bytes: 12, sha256: 'ab'.repeat(32) }], 1, 100);
    expect(line).toMatch(/^✓ notes\.txt → notes \(1\)\.txt {2}/);
  });
});

describe('sessionDisplay: the ETA before the first stats sample', () => {
  afterEach(() => void vi.useRealTimers());

  it('none from an average of less than a second (a 1-byte first file read "ETA 130h31m"); one after a second', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    const display = sessionDisplay('send', { stream, tty: false, columns: () => 200 });
    const progress = (bytes: number): SessionEvent => ({ type: 'progress', bytes, total: 300 * MiB, percent: 0, acked: bytes, files: { completed: 0, total: 1 } }) as unknown as SessionEvent;
    display.show({ ...started, from: 0 });
    vi.setSystemTime(1_000_050);
    display.show(progress(1));
    expect(text.trim().split('\n').at(-1)).toMatch(/ETA —$/);
    vi.setSystemTime(1_002_100);
    display.show(progress(20 * MiB));
    // 20 MiB in 2.1 s: the rest, 280 MiB, in about 29 s.
    expect(text.trim().split('\n').at(-1)).toMatch(/ETA 29s$/);
  });
});
