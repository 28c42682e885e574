/**
 * A watchdog for every test file (vitest `setupFiles`).
 *
 * vitest's timeouts are timers on the test's own event loop. When native code blocks that loop (a deadlock
 * inside libdatachannel, say), no timer fires and the whole run waits forever: one CI run waited 5,400 s.
 * This file starts a worker thread, with its own event loop, that watches a heartbeat the test's thread
 * writes once a second. When the heartbeat is older than `TEST_WATCHDOG_MS` (default 120 s), the worker
 * writes the running test's name and every thread's native stack (through gdb, when it is installed) to
 * stderr, then kills the process. vitest reports the file as failed and goes on with the others.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect } from 'vitest';

const staleMs = Number(process.env.TEST_WATCHDOG_MS ?? 120_000);
const heartbeat = new Int32Array(new SharedArrayBuffer(4));
const label = new Uint8Array(new SharedArrayBuffer(2048));

// Tests may fake Date and timers; the clock and the interval below are taken before any test runs.
const clock = globalThis.performance;
const nowS = (): number => Math.floor((clock.timeOrigin + clock.now()) / 1000) % 2 ** 30;

let running = '';
let note = '';

function setLabel(text: string): void {
  running = text;
  const bytes = new TextEncoder().encode(note ? `${running} [${note}]` : running).subarray(0, label.length - 1);
  label.fill(0);
  label.set(bytes);
}

const watcher = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { heartbeat, label, staleMs, pid } = workerData;
const nowS = () => Math.floor(Date.now() / 1000) % 2 ** 30;
const timer = setInterval(() => {
  const age = nowS() - Atomics.load(heartbeat, 0);
  if (age * 1000 < staleMs) return;
  clearInterval(timer);
  const end = label.indexOf(0);
  const running = new TextDecoder().decode(label.slice(0, end < 0 ? label.length : end));
  writeSync(2, '\\n[watchdog] the event loop of pid ' + pid + ' has not run for ' + age + ' s, in: ' + running + '\\n');
  try {
    const stacks = execFileSync('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt 30'],
      { timeout: 60000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    writeSync(2, '[watchdog] native stacks:\\n' + stacks + '\\n');
  } catch (error) {
    writeSync(2, '[watchdog] no native stacks (' + String(error && error.message).split('\\n')[0] + ')\\n');
  }
  process.kill(pid, 'SIGKILL');
}, 2000);
`;

if (staleMs > 0) {
  Atomics.store(heartbeat, 0, nowS());
  setInterval(() => Atomics.store(heartbeat, 0, nowS()), 1000).unref();
  setLabel(`${expect.getState().testPath ?? 'a test file'} (collecting or in a hook)`);
  const worker = new Worker(watcher, { eval: true, workerData: { heartbeat, label, staleMs, pid: process.pid } });
  worker.unref();
  // A test may add what replays it (a fast-check seed): `globalThis.__tallowWatchdogNote?.('FC_SEED=…')`.
  (globalThis as { __tallowWatchdogNote?: (text: string) => void }).__tallowWatchdogNote = (text) => {
    note = text;
    setLabel(running);
  };
  beforeEach((context) => setLabel(`${context.task.file.filepath} > ${context.task.name}`));
  afterEach((context) => setLabel(`${context.task.file.filepath} (after ${context.task.name})`));
}
