/**
 * `TallowErrorCode`, the codes tallow-rx raises, against docs/errors.md and the source: the list below is typed
 * `Record<TallowErrorCode, true>`, so a code added to or dropped from the union without this list fails the
 * typecheck; the docs must name exactly these codes, and every `'ERR_…'` literal in src/ must be one of them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TallowErrorCode } from '../../src/index';

const CODES: Record<TallowErrorCode, true> = {
  ERR_CANCELLED: true, ERR_CHANNEL_CLOSED: true, ERR_CONNECTION_LOST: true, ERR_CONNECT_FAILED: true,
  ERR_FINGERPRINT_MALFORMED: true, ERR_FINGERPRINT_MISSING: true, ERR_FINGERPRINT_UNSUPPORTED: true,
  ERR_FRAME_TOO_SHORT: true, ERR_FRAME_VERSION: true, ERR_FRAME_TYPE: true, ERR_FRAME_LENGTH: true, ERR_FRAME_VALUE: true,
  ERR_FRAME_HEADER: true, ERR_FRAME_INPUT: true, ERR_HASH_MISMATCH: true, ERR_HASH_WORKER: true, ERR_IDLE_TIMEOUT: true,
  ERR_INTERNAL: true, ERR_INVALID_CONFIG: true, ERR_LIMIT: true, ERR_MESSAGE_TOO_LARGE: true, ERR_PEER_DEPENDENCY: true,
  ERR_PROTOCOL: true, ERR_REJECTED: true, ERR_REMOTE: true, ERR_REORDER_GAP: true, ERR_REORDER_OVERFLOW: true,
  ERR_REORDER_TIMEOUT: true, ERR_SINK_WRITE: true, ERR_SOURCE_READ: true, ERR_STATS_FAILED: true,
  ERR_STATS_UNSUPPORTED: true, ERR_STORE_UNAVAILABLE: true, ERR_UNSAFE_NAME: true,
};

const root = join(__dirname, '..', '..');
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('error codes', () => {
  it('docs/errors.md names exactly the codes of TallowErrorCode', () => {
    const documented = new Set(readFileSync(join(root, 'docs/errors.md'), 'utf8').match(/`ERR_[A-Z0-9_]+`/g)!.map((c) => c.slice(1, -1)));
    expect([...documented].sort()).toEqual(Object.keys(CODES).sort());
  });

  it("every 'ERR_…' literal in src/ is a TallowErrorCode (ERR_PARSE_ARGS and ERR_PARSE_ARGS_UNKNOWN_OPTION are Node's util.parseArgs, read by the CLI)", () => {
    const used = new Set(filesUnder(join(root, 'src')).flatMap((f) => readFileSync(f, 'utf8').match(/'ERR_[A-Z0-9_]+'/g) ?? []).map((c) => c.slice(1, -1)));
    used.delete('ERR_PARSE_ARGS');
    used.delete('ERR_PARSE_ARGS_UNKNOWN_OPTION');
    expect([...used].filter((c) => !(c in CODES))).toEqual([]);
    expect(used.size).toBeGreaterThan(30);
  });
});
