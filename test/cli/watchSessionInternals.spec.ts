/**
 * The CLI's summary counts as "already here" only what was not moved: a resume the sender refused (`restart`,
 * the held prefix differed) starts the file again from 0, and its bytes all moved (an outside check saw
 * "300.0 MiB in 9.9 s (…, 100.0 MiB of it already here)" after such a restart).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sessionDisplay } from '../../src/cli/watchSessionInternals';
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
