/**
 * The web example end to end in real Chromium, as people use it: examples/web/server.ts serves
 * the page inside a loopback-only network namespace, room codes included; test/web/fixtures/pageRunner.ts drives tab A at a
 * desktop viewport (1280×800) and tab B at a phone viewport (390×844).
 *
 * - B joins A's room by typing A's short code; both show the same safety code (SAS); neither
 *   page is wider than its viewport; Tab reaches the controls in reading order.
 * - axe-core finds no serious or critical violation on either tab, in light and dark.
 * - Three files from disk, A → B into OPFS: the offer is at the top of B's phone screen, the
 *   tab title says so, each queue row ends with a link whose bytes hash to the file's SHA-256;
 *   the simple line showed MB/s and time left, then a summary replaced it.
 * - Both send a file at the same moment; a folder with a subfolder (webkitdirectory), B → A;
 *   a text snippet, A → B.
 * - 32 MiB cancelled by B at ≥ 30 %: both summaries say it stopped; a declined offer (keyboard).
 * - B reloaded at ≥ 40 % of a 24 MiB OPFS receive: it rejoins, A offers again by itself, and B
 *   continues from the prefix its OPFS kept; the SHA-256 matches.
 * - A third tab with an unknown code says so.
 *
 * Screenshots land in test-artifacts/web/; with WEB_DOCS_SCREENSHOT=1 also docs/web-desktop.png
 * and docs/web-phone.png. Without /usr/bin/chromium the suite is skipped, except when CI is set.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_EXECUTABLE, spawnChromiumRunner, type SpawnedChromiumRunner } from '../harness/chromium';
import { patternBytes } from '../harness/pump';
import { REPO_ROOT } from '../harness/spawnScript';
import { sha256Hex } from '../helpers/sha256';
import type { PageCommand, PageReply, SideFacts } from './fixtures/pageRunner';

const MiB = 1024 * 1024;
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web');
const DOCS_SHOTS = Boolean(process.env.WEB_DOCS_SCREENSHOT);
const hasChromium = existsSync(CHROMIUM_EXECUTABLE);
const inCi = Boolean(process.env.CI);
const skip = !hasChromium && !inCi;
if (skip) console.warn(`test/web/e2e skipped: ${CHROMIUM_EXECUTABLE} not found (apt-get install chromium); with CI set this fails instead`);

interface Transfer {
  offer: { text: string; title: string; titleAfter: string; top: number; bottom: number; viewportHeight: number; items: number };
  offerMs: number;
  chosen?: string;
  sender: SideFacts;
  receiver: SideFacts;
  senderLines: string[];
  receiverLines: string[];
  pageErrors: string[];
  cancelledAt?: number;
}

describe.skipIf(skip)('web example in Chromium: a desktop tab and a phone tab (127.0.0.1)', () => {
  let runner: SpawnedChromiumRunner | undefined;
  const waiting = new Map<number, (reply: PageReply) => void>();
  let nextId = 0;

  const request = <T>(command: PageCommand, timeoutMs = 45_000): Promise<T> => {
    const r = runner;
    if (!r) return Promise.reject(new Error('no Chromium runner'));
    const id = ++nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`runner ${command.cmd} got no reply within ${timeoutMs} ms\n${r.stderr().slice(-4000)}`));
      }, timeoutMs);
      void r.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`runner exited (code ${code}, signal ${signal})\n${r.stderr().slice(-4000)}`));
      });
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (reply.ok) resolve(reply.value as T);
        else reject(new Error(`runner: ${reply.error}\n--- runner stderr ---\n${r.stderr().slice(-4000)}`));
      });
      r.port.send({ ...command, id });
    });
  };

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI is set but ${CHROMIUM_EXECUTABLE} is missing: .ci/run must install chromium`);
    runner = await spawnChromiumRunner(new URL('./fixtures/pageRunner.ts', import.meta.url), { timeoutMs: 60_000 });
    runner.port.onMessage((data) => waiting.get((data as PageReply).id)?.(data as PageReply));
  }, 90_000);

  afterAll(async () => {
    await runner?.close();
  }, 30_000);

  /** What a finished multi-file receive shows: every row done, each link's bytes hash to its file. */
  const expectRowsIntact = (side: SideFacts, files: { name: string; size: number; sha256: string }[]): void => {
    expect(side.rows.map((r) => r.state)).toEqual(files.map(() => 'done'));
    for (const f of files) {
      const row = side.rows.find((r) => r.link?.name === f.name);
      expect(row, f.name).toBeDefined();
      expect(row!.link).toEqual({ name: f.name, size: f.size, sha256: f.sha256, dataSha256: f.sha256 });
      expect(row!.progress).toBe(100);
    }
  };

  it('the phone joins by typing the desktop tab’s room code; both show the same safety code; nothing is wider than the screen', async () => {
    const r = await request<any>({ cmd: 'join' });
    console.info(`[web e2e] code ${r.shown.code}, safety code ${r.A.sas}; Tab order waiting: ${r.waitingTabOrder.join(' → ')}; connected: ${r.tabOrder.join(' → ')}`);
    expect(r.pageErrors).toEqual([]);
    expect(r.shown.code).toMatch(/^[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}$/);
    expect(r.shown.qrModules).toBeGreaterThanOrEqual(21);
    expect(r.shown.qrLabel).toContain(r.shown.link);
    expect(r.shown.link).toBe(r.shown.url);
    for (const side of [r.A, r.B]) {
      expect(side.secure).toBe(true);
      expect(side.connection).toMatch(/^Connected to the other device over 2 peer connections/);
      expect(side.safetyVisible).toBe(true);
      expect(side.sas).toMatch(/^\d{3} \d{3}$/);
      expect(side.scrollWidth).toBeLessThanOrEqual(side.viewportWidth);
      expect(side.sendButtonRight).toBeLessThanOrEqual(side.viewportWidth);
      // Each page wrapped its lanes with channelsInWorker: its data channels run in the channel worker.
      expect(side.channels).toBe('worker');
    }
    expect(r.B.sas).toBe(r.A.sas);
    expect(r.B.viewportWidth).toBe(390);
    // After joining by code, B's address names the room, so a reload rejoins it.
    expect(r.B.url).toBe(r.A.url);
    // While waiting: link, copy, typed code, in reading order. Once connected the join block folds
    // away and Tab goes from the skip link to the Send controls.
    const waitingOrder: string[] = r.waitingTabOrder;
    expect(waitingOrder.indexOf('room-link')).toBeGreaterThan(0);
    expect(waitingOrder.indexOf('copy-link')).toBeGreaterThan(waitingOrder.indexOf('room-link'));
    expect(waitingOrder.indexOf('join-code')).toBeGreaterThan(waitingOrder.indexOf('copy-link'));
    const order: string[] = r.tabOrder;
    expect(order.indexOf('file-input')).toBeGreaterThan(0);
    expect(order.indexOf('folder-input')).toBeGreaterThan(order.indexOf('file-input'));
    expect(order.indexOf('profile')).toBeGreaterThan(order.indexOf('folder-input'));
    expect(order.indexOf('snippet')).toBeGreaterThan(order.indexOf('profile'));
  }, 60_000);

  it.each(['light', 'dark'] as const)('axe-core: no serious or critical violations on either tab (%s)', async (scheme) => {
    const r = await request<Record<'A' | 'B', { id: string; impact: string; nodes: string[] }[]>>({ cmd: 'axe', scheme });
    for (const tab of ['A', 'B'] as const) {
      const bad = r[tab].filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(bad, `${tab} (${scheme}): ${JSON.stringify(bad, null, 1)}`).toEqual([]);
    }
  }, 30_000);

  it('three files from the desktop to the phone into OPFS: offer at the top, queue rows with verified links, people line then summary', async () => {
    const sizes = [3 * MiB, MiB + 7, 5];
    const seed = 20;
    const r = await request<Transfer>({ cmd: 'files', from: 'A', sizes, seed, save: 'opfs' });
    expect(r.pageErrors).toEqual([]);
    expect(r.offer.text).toMatch(/^3 files · 4\.2 MB$/);
    expect(r.offer.items).toBe(3);
    // The offer is on the phone's first screen, and the title said so until it was answered.
    expect(r.offer.top).toBeGreaterThanOrEqual(0);
    expect(r.offer.bottom).toBeLessThanOrEqual(r.offer.viewportHeight);
    expect(r.offer.title).toMatch(/^\(1\) Incoming: 3 files/);
    expect(r.offer.titleAfter).not.toMatch(/Incoming/);
    const files = sizes.map((size, i) => ({ name: `tallow-${seed + i}.bin`, size, sha256: sha256Hex(patternBytes(size, seed + i)) }));
    expect(r.sender.state).toBe('completed');
    expect(r.receiver.state).toBe('completed');
    expect(r.receiver.status).toMatch(/^Received 3 files \(4\.2 MB\), SHA-256 verified; stored in the browser’s private storage \(OPFS\)\.$/);
    expectRowsIntact(r.receiver, files);
    expect(r.sender.rows.map((x) => x.state)).toEqual(['done', 'done', 'done']);
    // The live line showed a speed in MB/s and the time left before the summary replaced it.
    const live = [...r.senderLines, ...r.receiverLines].filter((l) => /MB\/s · (about .+ left|time left unknown)$/.test(l));
    console.info(`[web e2e] offer shown after ${r.offerMs} ms; live lines: ${live.slice(-3).join(' | ')}; summaries: ${r.sender.line} | ${r.receiver.line}`);
    for (const side of [r.sender, r.receiver]) {
      expect(side.summary).toBe('completed');
      expect(side.line).toMatch(/^Done: 3 files, 4\.2 MB( in [\d.]+ s \([\d.]+ MB\/s on average\))?\.$/);
      expect(side.detailsOpen).toBe(false);
    }
    await request({ cmd: 'screenshot', files: { A: join(ARTIFACTS, 'desktop-sent.png'), B: join(ARTIFACTS, 'phone-received.png') } });
    if (DOCS_SHOTS) await request({ cmd: 'screenshot', files: { A: join(REPO_ROOT, 'docs', 'web-desktop.png'), B: join(REPO_ROOT, 'docs', 'web-phone.png') } });
  }, 60_000);

  it('both send at the same moment: each file arrives intact on the other side', async () => {
    const size = 2 * MiB;
    const seeds: [number, number] = [40, 41];
    const r = await request<{ atA: SideFacts; atB: SideFacts; aSend: SideFacts; bSend: SideFacts; pageErrors: string[] }>({ cmd: 'both', size, seeds });
    expect(r.pageErrors).toEqual([]);
    for (const side of [r.atA, r.atB, r.aSend, r.bSend]) expect(side.state).toBe('completed');
    expectRowsIntact(r.atB, [{ name: 'tallow-40.bin', size, sha256: sha256Hex(patternBytes(size, 40)) }]);
    expectRowsIntact(r.atA, [{ name: 'tallow-41.bin', size, sha256: sha256Hex(patternBytes(size, 41)) }]);
  }, 60_000);

  it('a folder with a subfolder from the phone to the desktop (webkitdirectory), paths kept', async () => {
    const r = await request<Transfer>({ cmd: 'folder', from: 'B' });
    expect(r.pageErrors).toEqual([]);
    expect(r.chosen).toMatch(/^holiday\/.+ and 1 more \(300\.\d kB; 2 folders\)$/);
    expect(r.receiver.state).toBe('completed');
    expect(r.receiver.rows.map((x) => x.name.replace(/ \(.*$/, '')).sort()).toEqual(['holiday/day 2/photo.bin', 'holiday/notes.txt']);
    expect(r.receiver.rows.every((x) => x.state === 'done' && x.link?.sha256 === x.link?.dataSha256)).toBe(true);
  }, 60_000);

  it('a text snippet from the desktop shows as text on the phone', async () => {
    const text = 'https://example.org/a link, and a second line\nwith ünïcödé';
    const r = await request<Transfer>({ cmd: 'snippet', from: 'A', text });
    expect(r.pageErrors).toEqual([]);
    expect(r.receiver.state).toBe('completed');
    expect(r.receiver.rows).toHaveLength(1);
    expect(r.receiver.rows[0].snippet).toBe(text);
  }, 30_000);

  it('32 MiB cancelled on the phone at ≥ 30 %: both summaries say it stopped, no live speed stays', async () => {
    const r = await request<Transfer>({ cmd: 'cancel', size: 32 * MiB });
    expect(r.pageErrors).toEqual([]);
    expect(r.cancelledAt).toBeGreaterThanOrEqual(30);
    expect(r.receiver.state).toBe('cancelled');
    expect(r.receiver.status).toBe('Cancelled.');
    expect(r.sender.state).toBe('cancelled');
    expect(r.sender.status).toBe('Cancelled by the receiver.');
    for (const side of [r.sender, r.receiver]) {
      expect(side.summary).toBe('cancelled');
      expect(side.line).toMatch(/^Stopped after [\d.]+ [kMG]?B of 33\.6 MB\.$/);
      expect(side.rows.map((x) => x.state)).toEqual(['stopped']);
    }
  }, 60_000);

  it('an offer declined on the phone with the keyboard: the desktop hears it', async () => {
    const r = await request<Transfer>({ cmd: 'decline' });
    expect(r.pageErrors).toEqual([]);
    expect(r.sender.state).toBe('declined');
    expect(r.sender.status).toBe('Declined by the receiver.');
    expect(r.receiver.state).toBe('declined');
  }, 30_000);

  it('the phone reloaded at ≥ 40 % of an OPFS receive: it rejoins, the desktop offers again, and it continues from its verified prefix', async () => {
    const size = 24 * MiB;
    const seed = 50;
    const r = await request<{ reloadedAtPercent: number; offerText: string; radios: string[]; statusAfterAccept: string; sender: SideFacts; receiver: SideFacts; pageErrors: string[] }>({ cmd: 'reload', size, seed }, 90_000);
    console.info(`[web e2e] reloaded at ${r.reloadedAtPercent.toFixed(1)} %; offer after the reload: ${r.offerText}; ${r.statusAfterAccept}`);
    expect(r.pageErrors).toEqual([]);
    expect(r.reloadedAtPercent).toBeGreaterThanOrEqual(40);
    // What OPFS kept (at its last checkpoint, every 4 MiB) is offered back, and only OPFS can continue it.
    const kept = /continues from ([\d.]+) MB kept in browser storage$/.exec(r.offerText);
    expect(kept, r.offerText).not.toBeNull();
    expect(Number(kept![1])).toBeGreaterThanOrEqual(4.1);
    expect(r.radios).toEqual(['opfs:on', 'disk:off', 'memory:off']);
    expect(r.statusAfterAccept).toMatch(/continuing from [\d.]+ MB…$/);
    expect(r.sender.state).toBe('completed');
    expect(r.receiver.state).toBe('completed');
    expectRowsIntact(r.receiver, [{ name: `tallow-${seed}.bin`, size, sha256: sha256Hex(patternBytes(size, seed)) }]);
  }, 100_000);

  it('a code nobody gave out: the page says so', async () => {
    const r = await request<{ connection: string; joinError: string }>({ cmd: 'unknownCode' });
    expect(r.connection).toBe('That room code is unknown or expired.');
    expect(r.joinError).toMatch(/^No room has the code ZZZ-ZZZ/);
  }, 30_000);
});
