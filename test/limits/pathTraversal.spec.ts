/**
 * Limit: the file name in the manifest comes from the peer. With
 * `directoryTarget(dir)`, a hostile name (`../../etc/passwd`, an absolute path,
 * NUL, a Windows device name, …) either lands inside `dir` under a sanitised
 * name or the transfer is refused; nothing is ever created outside `dir`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError, receiveFile, sendFile, TallowError } from '../../src/index';
import { directoryTarget } from '../../src/node';
import { createVirtualLink } from '../../src/testing';
import { listDir, watch } from './hostileSender';
import { closeAfter, inbox } from './tmpDirs';
import { deterministicBytes } from '../helpers/bytes';
import { completedOf } from '../helpers/events';

const content = deterministicBytes(3000);

/** Hostile names, and the sanitised name each must land under (null: the transfer must be refused). */
const CASES: [string, string | null][] = [
  ['../../etc/passwd', 'passwd'],
  ['../inbox-sibling.txt', 'inbox-sibling.txt'],
  ['/etc/passwd', 'passwd'],
  ['/tmp/../../root/.ssh/authorized_keys', 'authorized_keys'],
  ['..\\..\\Windows\\System32\\evil.dll', 'evil.dll'],
  ['C:\\Windows\\win.ini', 'win.ini'],
  ['\\\\server\\share\\x.txt', 'x.txt'],
  ['CON', '_CON'],
  ['nul.txt', '_nul.txt'],
  ['a:b', 'a_b'],
  ['.bashrc', 'bashrc'],
  ['ok\u0000.txt', null],
  ['\u0000', null],
  ['..', null],
  ['../..', null],
  ['/', null],
  ['', null],
];

describe('limit: path traversal through the manifest name', () => {
  it.each(CASES)('%j → %j', async (name, expected) => {
    const { root, dir } = await inbox();
    const link = closeAfter(createVirtualLink());
    const r = watch(receiveFile(link.b, { target: directoryTarget(dir) }));
    const s = watch(sendFile(link.a, content, { name }));
    await Promise.all([r.settled, s.settled]);

    // Whatever happened, nothing exists outside the inbox.
    expect(await listDir(root)).toEqual(['inbox']);
    if (expected === null) {
      expect(r.error()).toBeInstanceOf(ProtocolError);
      expect((r.error() as ProtocolError).code).toBe('ERR_UNSAFE_NAME');
      expect(s.error()).toBeInstanceOf(TallowError);
      expect(await listDir(dir)).toEqual([]);
      return;
    }
    expect(r.error()).toBeUndefined();
    const done = completedOf(r.events);
    const path = resolve(done!.result as string);
    expect(dirname(path)).toBe(resolve(dir));
    expect(path).toBe(join(resolve(dir), expected));
    expect(await listDir(dir)).toEqual([expected]);
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(content))).toBe(true);
  });
});
