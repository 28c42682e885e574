import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultSendBytesPerTask, PAGE_SEND_BYTES_PER_TASK } from '../../src/transfer/sendBytesPerTask';

describe('defaultSendBytesPerTask', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is one Chromium-sized frame (256 KiB) where `document` exists: a browser page', () => {
    vi.stubGlobal('document', {});
    expect(PAGE_SEND_BYTES_PER_TASK).toBe(262_144);
    expect(defaultSendBytesPerTask()).toBe(PAGE_SEND_BYTES_PER_TASK);
  });

  it('is no limit (Infinity) without one: Node, workers', () => {
    expect(typeof document).toBe('undefined');
    expect(defaultSendBytesPerTask()).toBe(Infinity);
  });
});
