import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors';
import { encodeControl, MAX_CONTROL_MESSAGE, parseControl, type ControlMessage } from '../../src/protocol/control';

const offer: ControlMessage = {
  t: 'offer',
  v: 3,
  id: 7,
  files: 2,
  folders: 1,
  bytes: 123,
  channels: 3,
  lanes: 1,
  idBase: 900,
  reliability: 'reliable',
  chunk: { min: 16384, max: 262112 },
  digest: 'sha-256',
  window: 16 * 1024 * 1024,
  parallel: 8,
};
const entry: ControlMessage = { t: 'entry', id: 7, i: 0, name: 'a/b.bin', size: 123, type: 'application/octet-stream', lastModified: 5 };
const sha = 'a'.repeat(64);

const bad = (raw: unknown): string => {
  try {
    parseControl(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).message;
  }
  throw new Error(`accepted ${String(raw)}`);
};

describe('parseControl', () => {
  it('round-trips every message type', () => {
    const all: ControlMessage[] = [
      offer,
      entry,
      { t: 'entry', id: 7, i: 1, name: 'c', size: 0, type: '' },
      { t: 'folder', id: 7, name: 'empty/dir' },
      { t: 'skip', id: 7, i: 1 },
      { t: 'skip', id: 7, i: 1, sha256: sha },
      { t: 'resume', id: 7, i: 0, from: 0 },
      { t: 'resume', id: 7, i: 0, from: 100, prefixSha256: sha },
      { t: 'accept', id: 7 },
      { t: 'restart', id: 7, i: 0 },
      { t: 'reject', id: 7, reason: 'no' },
      { t: 'ack', id: 7, i: 0, bytes: 10, queued: 0 },
      { t: 'nack', id: 7, i: 0, chunks: [1, 5] },
      { t: 'done', id: 7, i: 0, chunks: 3, bytes: 123, sha256: sha },
      { t: 'complete', id: 7, i: 0, sha256: sha },
      { t: 'cancel', id: 7, reason: 'user' },
      { t: 'error', id: 7, code: 'ERR_X', message: 'boom' },
      { t: 'error', id: 7, code: 'ERR_SINK_WRITE', message: 'disk full', cause: 'ENOSPC' },
      { t: 'ping', n: 1, ts: 12.5 },
      { t: 'pong', n: 1, ts: 12.5 },
    ];
    for (const m of all) expect(parseControl(encodeControl(m))).toStrictEqual(m);
  });

  it("a skip's optional sha256 must be 64 lowercase hex digits", () => {
    expect(() => parseControl(JSON.stringify({ t: 'skip', id: 7, i: 1, sha256: sha.toUpperCase() }))).toThrow(ProtocolError);
    expect(() => parseControl(JSON.stringify({ t: 'skip', id: 7, i: 1, sha256: 'abc' }))).toThrow(ProtocolError);
  });

  it('a version-2 offer is refused with both versions named, and the id of the offer in details', () => {
    let err: unknown;
    try {
      parseControl(JSON.stringify({ ...offer, v: 2 }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).message).toMatch(/version 2: this peer speaks version 3/);
    expect((err as ProtocolError).details).toMatchObject({ v: 2, supported: 3, id: 7 });
  });

  it('drops unknown fields (a version-1 done with `first` parses without it)', () => {
    expect(parseControl(JSON.stringify({ t: 'done', id: 1, i: 0, chunks: 1, bytes: 1, first: 0, sha256: sha }))).toStrictEqual({ t: 'done', id: 1, i: 0, chunks: 1, bytes: 1, sha256: sha });
    expect(parseControl(JSON.stringify({ t: 'accept', id: 1, from: 0, evil: 'x' }))).toStrictEqual({ t: 'accept', id: 1 });
  });

  it('a resume from > 0 without prefixSha256 says the digest is required, not "a string of at most 64 characters"', () => {
    for (const prefixSha256 of [undefined, 5, 'abc']) {
      expect(bad(JSON.stringify({ t: 'resume', id: 1, i: 0, from: 5, prefixSha256 }))).toContain("field 'prefixSha256' must be 64 lowercase hex digits");
    }
  });

  it('rejects malformed messages with ProtocolError', () => {
    bad(42);
    bad('not json');
    bad('[1,2]');
    bad('null');
    bad(JSON.stringify({ t: 'nope' }));
    bad(JSON.stringify({ ...offer, v: 1 }));
    bad(JSON.stringify({ ...offer, window: undefined }));
    bad(JSON.stringify({ ...offer, window: 2 * 262112 - 1 }));
    bad(JSON.stringify({ t: 'resume', id: 1, i: 0, from: 5, prefixSha256: 'A'.repeat(64) }));
    bad(JSON.stringify({ t: 'restart', id: 1 }));
    bad(JSON.stringify({ t: 'ack', id: 1, bytes: 1, queued: 0 }));
    bad(JSON.stringify({ ...offer, parallel: 0 }));
    bad(JSON.stringify({ ...offer, parallel: 65 }));
    bad(JSON.stringify({ ...offer, files: -1 }));
    bad(JSON.stringify({ t: 'error', id: 1, code: 'ERR_X', message: 'm', cause: 'c'.repeat(65) }));
    bad(JSON.stringify({ ...entry, size: -1 }));
    bad(JSON.stringify({ ...entry, size: 2 ** 60 }));
    bad(JSON.stringify({ ...entry, size: 1.5 }));
    bad(JSON.stringify({ ...entry, name: 'x'.repeat(2000) }));
    bad(JSON.stringify({ ...entry, i: undefined }));
    bad(JSON.stringify({ t: 'folder', id: 1 }));
    bad(JSON.stringify({ ...offer, chunk: { min: 10, max: 5 } }));
    bad(JSON.stringify({ ...offer, channels: 99 }));
    bad(JSON.stringify({ ...offer, lanes: 4, channels: 2 }));
    bad(JSON.stringify({ ...offer, reliability: 'maybe' }));
    bad(JSON.stringify({ ...offer, idBase: 1022 }));
    bad(JSON.stringify({ ...offer, idBase: undefined }));
    bad(JSON.stringify({ ...offer, digest: 'md5' }));
    bad(JSON.stringify({ t: 'nack', id: 1, i: 0, chunks: new Array(5000).fill(1) }));
    bad(JSON.stringify({ t: 'nack', id: 1, i: 0, chunks: [-1] }));
    bad(JSON.stringify({ t: 'done', id: 1, i: 0, chunks: 1, bytes: 1, sha256: 'XYZ' }));
    bad(JSON.stringify({ t: 'ping', n: 1, ts: 'x' }));
    expect(bad(' '.repeat(MAX_CONTROL_MESSAGE + 1))).toMatch(/exceeds/);
  });
});
