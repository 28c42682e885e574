// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { createJoinView, displayCode, normalizeCode, qrSvg, type JoinElements } from '../../examples/web/joinView';
import { createQueueView } from '../../examples/web/queueView';

describe('room codes', () => {
  it('normalizes what people type: case, dashes, spaces', () => {
    expect(normalizeCode('k7q m2x')).toBe('K7QM2X');
    expect(normalizeCode('K7Q-M2X')).toBe('K7QM2X');
    expect(normalizeCode('K7Q-M20')).toBeUndefined(); // 0 is not in the alphabet
    expect(normalizeCode('K7QM2')).toBeUndefined();
    expect(displayCode('K7QM2X')).toBe('K7Q-M2X');
  });

  it('a QR code is one labelled SVG path of the modules', () => {
    const svg = qrSvg(document, 'http://192.168.1.20:8080/?room=abc', 'QR code of the room link');
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.getAttribute('aria-label')).toBe('QR code of the room link');
    expect(Number(svg.getAttribute('data-modules'))).toBeGreaterThanOrEqual(21);
    expect(svg.querySelector('path')!.getAttribute('d')).toMatch(/^M\d+ \d+h1v1h-1z/);
  });
});

describe('createJoinView', () => {
  let els: JoinElements;
  let joined: string[];
  let copied: string[];
  beforeEach(() => {
    document.body.innerHTML = `<strong id="code"></strong><div id="qr"></div><a id="link"></a><button id="copy" disabled></button><span id="copy-status"></span>
      <form id="form"><input id="input"><button type="submit">Join</button></form><p id="error"></p><p id="safety" hidden><strong class="safety-value"></strong></p>`;
    const $ = (id: string) => document.getElementById(id)!;
    els = { code: $('code'), qr: $('qr'), link: $('link') as HTMLAnchorElement, copyButton: $('copy') as HTMLButtonElement, copyStatus: $('copy-status'), form: $('form') as HTMLFormElement, input: $('input') as HTMLInputElement, error: $('error'), safety: $('safety') };
    joined = [];
    copied = [];
  });

  it('shows the code, the link and its QR code; Copy link copies it', async () => {
    const view = createJoinView(document, els, (c) => joined.push(c), async (t) => void copied.push(t));
    view.showRoom({ link: 'http://127.0.0.1:8080/?room=abc', code: 'K7QM2X' });
    expect(els.code.textContent).toBe('K7Q-M2X');
    expect(els.link.getAttribute('href')).toBe('http://127.0.0.1:8080/?room=abc');
    expect(els.qr.querySelector('svg')).not.toBeNull();
    els.copyButton.click();
    await Promise.resolve();
    await Promise.resolve();
    expect(copied).toEqual(['http://127.0.0.1:8080/?room=abc']);
    expect(els.copyStatus.textContent).toBe('Link copied.');
  });

  it('joins with a normalized code, and says what is wrong with a bad one', () => {
    createJoinView(document, els, (c) => joined.push(c));
    els.input.value = 'abc';
    els.form.requestSubmit();
    expect(joined).toEqual([]);
    expect(els.input.getAttribute('aria-invalid')).toBe('true');
    expect(els.error.textContent).toMatch(/6 letters and digits/);
    els.input.value = 'k7q-m2x';
    els.form.requestSubmit();
    expect(joined).toEqual(['K7QM2X']);
    expect(els.error.textContent).toBe('');
  });

  it('shows and hides the safety code', () => {
    const view = createJoinView(document, els, () => undefined);
    view.showSafetyCode('048 213');
    expect(els.safety.hidden).toBe(false);
    expect(els.safety.querySelector('.safety-value')!.textContent).toBe('048 213');
    view.showSafetyCode(undefined);
    expect(els.safety.hidden).toBe(true);
  });
});

describe('createQueueView', () => {
  it('a row per file with its own bar; done rows get what arrived; stop marks the rest', () => {
    const q = createQueueView(document, 'receive', 'Files being received');
    q.setFiles([
      { index: 0, name: 'a.bin', size: 2_000_000 },
      { index: 1, name: 'b/c.txt', size: 10 },
    ]);
    q.progress(0, 1_000_000, 2_000_000);
    const rows = () => Array.from(q.element.querySelectorAll('li'));
    expect(rows().map((r) => r.dataset.state)).toEqual(['active', 'waiting']);
    expect(rows()[0].querySelector('progress')!.value).toBe(50);
    expect(rows()[0].querySelector('progress')!.getAttribute('aria-label')).toBe('a.bin progress');
    const link = document.createElement('a');
    q.done(0, link);
    q.stop();
    expect(rows().map((r) => r.dataset.state)).toEqual(['done', 'stopped']);
    expect(rows()[0].contains(link)).toBe(true);
    expect(q.counts).toEqual({ done: 1, total: 2 });
  });
});
