/**
 * Whole transfers from the built package, as a user's app runs them: the package build shortens private member
 * names (tsup.config.ts, scripts/privateNames.mjs), and every other spec runs from src/, so these are what says
 * that the shortened build still works. Builds with the project's tsup config into a temporary
 * `node_modules/tallow-rx` (as errorIdentity.spec.ts), then runs, in a child `node` through the package's
 * `exports` map: sessions with folders, an empty file and in-band lanes over a lossy virtual network; unreliable
 * mode over a lossy link; a reconnect; a slow `finish`; all in virtual time; a resume; and a real
 * node-datachannel transfer into a directory; under `import`, and one transfer under `require`.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
let dir: string;

beforeAll(async () => {
  await mkdir(join(root, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(root, '.tmp', 'built-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tallow-rx-built-probe', private: true, type: 'module' }));
  const pkg = join(dir, 'node_modules', 'tallow-rx');
  await mkdir(pkg, { recursive: true });
  await copyFile(join(root, 'package.json'), join(pkg, 'package.json'));
  const { build } = await import('tsup');
  await build({ config: join(root, 'tsup.config.ts'), outDir: join(pkg, 'dist'), dts: false, sourcemap: false, silent: true });
  await writeFile(join(dir, 'probe.mjs'), PROBE);
  await writeFile(join(dir, 'probe.cjs'), PROBE_CJS);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const PROBE = String.raw`
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, scan, filter, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { fromBytes, receiveFile, receiveFiles, sendFile, sendFiles } from 'tallow-rx';
import { createVirtualLink, createVirtualNetwork } from 'tallow-rx/testing';
import { connectLoopbackPair, directoryTarget } from 'tallow-rx/node';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const bytes = (n, k) => new Uint8Array(n).map((_, i) => (i * k + (i >> 9)) & 0xff);
// In memory, as the README's inMemory (a Blob is read through promises, which do not settle inside run()).
const named = (data, name) => ({ name, size: data.length, type: 'application/octet-stream', seekable: true, read: ({ start = 0, end = data.length, demand } = {}) => fromBytes(data.subarray(start, end), { demand }) });
const ts = () => new TestScheduler(() => undefined);
const out = {};

// Sessions: a folder, an empty file, in-band lanes over a lossy network with a bottleneck.
{
  const s = ts();
  const contents = [bytes(3 << 20, 7), bytes(0, 1), bytes(1 << 20, 13)];
  const files = [named(contents[0], 'top.bin'), named(contents[1], 'sub/empty.txt'), named(contents[2], 'sub/deeper/b.bin')];
  const r = { sent: [], got: [], err: [] };
  s.run(() => {
    const net = createVirtualNetwork({ scheduler: s, rateBytesPerSecond: 2_500_000, queueBytes: 131072, delayMs: 20, lossRate: 0.01 });
    const l = net.createLink();
    receiveFiles(l.b, { scheduler: s, createConnection: net.createConnection }).subscribe({ next: (e) => r.got.push(e), error: (e) => r.err.push(String(e)) });
    sendFiles(l.a, files, { scheduler: s, createConnection: net.createConnection, inbandLanes: 2, laneStaggerMs: 100 }).subscribe({ next: (e) => r.sent.push(e), error: (e) => r.err.push(String(e)) });
  });
  const done = r.got.find((e) => e.type === 'completed');
  out.sessions = { errors: r.err, files: done?.files.map((f) => f.sha256), lanes: Math.max(0, ...r.sent.filter((e) => e.type === 'stats').map((e) => e.stats.lanes ?? 0)) };
  out.sessionsExpected = contents.map(sha);
}

// Unreliable mode over a lossy link, two channels.
{
  const s = ts();
  const data = bytes(2 << 20, 3);
  let got, err;
  s.run(() => {
    const l = createVirtualLink({ scheduler: s, bandwidth: 4_000_000, delayMs: 10, lossRate: 0.05, seed: 2, faultFilter: (c) => c.label !== 'tallow-control' });
    receiveFile(l.b, { scheduler: s }).subscribe({ next: (e) => e.type === 'completed' && (got = e.sha256), error: (e) => (err = String(e)) });
    sendFile(l.a, data, { scheduler: s, reliability: 'unreliable', channels: 2 }).subscribe({ error: (e) => (err = String(e)) });
  });
  out.unreliable = { ok: got === sha(data), err };
}

// A reconnect after the link fails (the reconnect gives a plain value).
{
  const s = ts();
  const data = bytes(4 << 20, 5);
  const r = { types: [], err: [] };
  s.run(() => {
    const first = createVirtualLink({ scheduler: s, bandwidth: 4_000_000, delayMs: 10 });
    let second;
    const next = () => (second ??= createVirtualLink({ scheduler: s, bandwidth: 4_000_000, delayMs: 10 }));
    receiveFile(first.b, { scheduler: s, reconnect: () => next().b }).subscribe({ next: (e) => r.types.push(e.type), error: (e) => r.err.push(String(e)) });
    sendFile(first.a, data, { scheduler: s, reconnect: () => next().a }).subscribe({ error: (e) => r.err.push(String(e)) });
    s.schedule(() => first.fail(), 300);
  });
  out.reconnect = { errors: r.err, resumed: r.types.includes('resumed'), completed: r.types.includes('completed') };
}

// A target whose finish takes 8 s against an idle timeout of 5 s.
{
  const s = ts();
  const calls = { finish: 0, abort: 0 };
  let completed = false;
  let err;
  s.run(() => {
    const l = createVirtualLink({ scheduler: s, bandwidth: 4_000_000, delayMs: 10 });
    const target = {
      open: () => ({
        from: 0,
        sink: (c) => c.pipe(scan((n, x) => n + x.data.length, 0)),
        finish: () => (calls.finish++, { then: (ok) => (s.schedule(() => ok('placed'), 8000), { then: () => undefined }) }),
        abort: () => void calls.abort++,
      }),
    };
    receiveFile(l.b, { scheduler: s, target, idleTimeoutMs: 5000 }).subscribe({ next: (e) => e.type === 'completed' && (completed = true), error: (e) => (err = String(e)) });
    sendFile(l.a, bytes(1 << 20, 9), { scheduler: s, idleTimeoutMs: 5000 }).subscribe({ error: (e) => (err = String(e)) });
  });
  out.slowFinish = { completed, err, ...calls };
}

// Real node-datachannel peers on loopback, into a directory, then the same file again (held whole: skipped or completed at once).
{
  const folder = await mkdtemp(join(tmpdir(), 'tallow-built-'));
  const data = bytes(8 << 20, 11);
  const pair = await connectLoopbackPair();
  try {
    const received = lastValueFrom(receiveFile(pair.b, { target: directoryTarget(folder) }).pipe(filter((e) => e.type === 'completed')));
    await lastValueFrom(sendFile(pair.a, new File([data], 'real.bin')));
    await received;
    out.real = { ok: sha(await readFile(join(folder, 'real.bin'))) === sha(data) };
  } finally {
    await pair.close();
    await rm(folder, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(out));
`;

const PROBE_CJS = String.raw`
const { TestScheduler } = require('rxjs/testing');
const { receiveFile, sendFile } = require('tallow-rx');
const { createVirtualLink } = require('tallow-rx/testing');
const s = new TestScheduler(() => undefined);
const data = new Uint8Array(1 << 20).map((_, i) => i % 251);
let got;
s.run(() => {
  const l = createVirtualLink({ scheduler: s, bandwidth: 4_000_000, delayMs: 10 });
  receiveFile(l.b, { scheduler: s }).subscribe({ next: (e) => e.type === 'completed' && (got = e.sha256) });
  sendFile(l.a, data, { scheduler: s }).subscribe();
});
console.log(JSON.stringify({ sha256: got, expected: require('node:crypto').createHash('sha256').update(data).digest('hex') }));
`;

const run = async (file: string) => JSON.parse((await promisify(execFile)(process.execPath, [file], { cwd: dir, timeout: 90_000 })).stdout.trim().split('\n').at(-1)!);

describe('whole transfers from the built package (private names shortened)', () => {
  it('import: sessions with lanes, unreliable, reconnect, slow finish (virtual time) and a real node-datachannel transfer', async () => {
    const out = await run('probe.mjs');
    expect(out.sessions.errors).toEqual([]);
    expect(out.sessions.files).toEqual(out.sessionsExpected);
    expect(out.sessions.lanes).toBeGreaterThanOrEqual(2);
    expect(out.unreliable).toEqual({ ok: true });
    expect(out.reconnect).toEqual({ errors: [], resumed: true, completed: true });
    expect(out.slowFinish).toEqual({ completed: true, finish: 1, abort: 0 });
    expect(out.real).toEqual({ ok: true });
  }, 120_000);

  it('require: a transfer in virtual time', async () => {
    const out = await run('probe.cjs');
    expect(out.sha256).toBe(out.expected);
  }, 60_000);
});
