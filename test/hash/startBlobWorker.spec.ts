/** startBlobWorker: the script goes into a Blob URL, the worker gets it and its name, and the URL is revoked whatever `start` does. */
import { resolveObjectURL } from 'node:buffer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { canStartBlobWorker, startBlobWorker } from '../../src/hash/startBlobWorker';

/** A stand-in Worker that records what it was made with. */
class FakeWorker {
  static made: { url: string; name?: string }[] = [];
  constructor(url: string | URL, options?: { name?: string }) {
    FakeWorker.made.push({ url: String(url), name: options?.name });
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeWorker.made = [];
});

describe('startBlobWorker', () => {
  it('is not tried where there is no Worker (Node)', () => {
    expect(typeof Worker).toBe('undefined');
    expect(canStartBlobWorker()).toBe(false);
    vi.stubGlobal('Worker', FakeWorker);
    expect(canStartBlobWorker()).toBe(true);
  });

  it("hands start a maker whose worker loads the source from a blob: URL under the given name, and revokes the URL once start resolved", async () => {
    vi.stubGlobal('Worker', FakeWorker);
    let text: string | undefined;
    const result = await startBlobWorker('self.postMessage(1)', 'tallow-rx test', async (create) => {
      create();
      const blob = resolveObjectURL(FakeWorker.made[0].url);
      text = await blob?.text();
      return 'ready';
    });
    expect(result).toBe('ready');
    expect(FakeWorker.made).toEqual([{ url: expect.stringMatching(/^blob:/), name: 'tallow-rx test' }]);
    expect(text).toBe('self.postMessage(1)');
    expect(resolveObjectURL(FakeWorker.made[0].url)).toBeUndefined();
  });

  it('revokes the URL when start fails too, and passes the failure on', async () => {
    vi.stubGlobal('Worker', FakeWorker);
    let url: string | undefined;
    const failed = startBlobWorker('x', 'w', async (create) => {
      create();
      url = FakeWorker.made[0].url;
      throw new Error('CSP says no');
    });
    await expect(failed).rejects.toThrow('CSP says no');
    expect(url).toMatch(/^blob:/);
    expect(resolveObjectURL(url!)).toBeUndefined();
  });
});
