/**
 * examples/web/server.ts on 127.0.0.1 (random port): static files, headers, and the
 * rendezvous endpoint (src/server) with real WebSocket clients (the `ws` package): rooms,
 * short codes, error frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BAD_REQUEST_CODE, startWebServer, type WebServer } from '../../examples/web/server';

let web: WebServer;

beforeAll(async () => {
  web = await startWebServer({ port: 0 });
}, 60_000);
afterAll(() => web?.close());

/** A client socket that queues what it receives. */
async function client(query: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${web.port}/signal?${query}`, { headers });
  const inbox: any[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    inbox.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  /** Resolves with the next message of `type` (or rejects after 5 s). */
  const next = (type: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} message; got ${JSON.stringify(inbox)}`)), 5000);
      const check = () => {
        const i = inbox.findIndex((m) => m.type === type);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(inbox.splice(i, 1)[0]);
        } else waiters.push(check);
      };
      check();
    });
  return { ws, inbox, next, closed };
}

describe('web server: files', () => {
  it('binds 127.0.0.1 and serves the page, the bundle and the styles', async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(web.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).toContain('id="file-input"');

    const js = await fetch(`${web.url}app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const bundle = await js.text();
    expect(bundle.length).toBe(web.bundleBytes);
    // The library is in the bundle, not fetched from elsewhere.
    expect(bundle).toContain('tallow-control');
    expect(bundle).not.toMatch(/from\s*["']rxjs["']/);

    const css = await fetch(`${web.url}styles.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('sends a CSP that allows only our script (and WebAssembly), our socket and blob: URLs', async () => {
    const csp = (await fetch(web.url)).headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${web.port} wss://127.0.0.1:${web.port} blob:`);
    expect(csp).toContain("object-src 'none'");
    // The library's hash worker starts from a blob: URL.
    expect(csp).toContain('worker-src blob:');
  });

  it('404 for unknown paths, 405 for other methods, HEAD without a body', async () => {
    expect((await fetch(`${web.url}nope`)).status).toBe(404);
    expect((await fetch(`${web.url}../package.json`)).status).toBe(404);
    expect((await fetch(web.url, { method: 'POST' })).status).toBe(405);
    const head = await fetch(web.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe('web server: signalling', () => {
  it('pairs two tabs and relays host candidates only', async () => {
    const a = await client('room=s1&lanes=2');
    const waiting = await a.next('waiting');
    expect(waiting).toEqual({ type: 'waiting', room: 's1', code: expect.stringMatching(/^[2-9A-HJKMNP-Z]{6}$/), codeExpiresAt: expect.any(Number), resume: expect.any(String) });
    // The second tab joins by the short code, typed the way people do.
    const typed = `${waiting.code.slice(0, 3).toLowerCase()}-${waiting.code.slice(3)}`;
    const b = await client(`code=${typed}&lanes=2`);
    expect(await a.next('paired')).toEqual({ type: 'paired', role: 'offerer', lanes: 2, room: 's1', iceServers: [], resume: waiting.resume });
    expect(await b.next('paired')).toMatchObject({ type: 'paired', role: 'answerer', lanes: 2, room: 's1', iceServers: [] });

    const host = 'candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host';
    a.ws.send(JSON.stringify({ type: 'signal', lane: 1, candidate: { candidate: host.replace('typ host', 'typ srflx'), sdpMid: '0', sdpMLineIndex: 0 } }));
    a.ws.send(JSON.stringify({ type: 'signal', lane: 1, candidate: { candidate: host, sdpMid: '0', sdpMLineIndex: 0 } }));
    expect(await b.next('signal')).toEqual({ type: 'signal', lane: 1, candidate: { candidate: host, sdpMid: '0', sdpMLineIndex: 0 } });
    // The srflx one never arrived.
    expect(b.inbox).toEqual([]);

    b.ws.close();
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left' });
    a.ws.close();
    await a.closed;
  });

  it('a third tab gets full; a bad room name or a foreign origin is refused', async () => {
    const a = await client('room=s2');
    const b = await client('room=s2');
    const c = await client('room=s2');
    expect(await c.next('full')).toEqual({ type: 'full' });
    expect(await c.closed).toBe(4001);

    const bad = await client('room=../etc');
    expect(await bad.next('error')).toMatchObject({ type: 'error' });
    expect(await bad.closed).toBe(BAD_REQUEST_CODE);

    const foreign = await client('room=s3', { origin: 'http://evil.example' });
    expect(await foreign.closed).toBe(BAD_REQUEST_CODE);
    const same = await client('room=s3', { origin: `http://127.0.0.1:${web.port}` });
    expect(await same.next('waiting')).toMatchObject({ type: 'waiting', room: 's3' });
    [a, b, same].forEach((x) => x.ws.close());
  });

  it('an unknown code gets unknown-code and 4004; a malformed frame gets bad-message and the socket stays', async () => {
    const lost = await client('code=ZZZ-ZZZ');
    expect(await lost.next('error')).toMatchObject({ type: 'error', code: 'unknown-code' });
    expect(await lost.closed).toBe(4004);

    const a = await client('room=s4');
    await a.next('waiting');
    a.ws.send('{"type":"signal"');
    expect(await a.next('error')).toMatchObject({ type: 'error', code: 'bad-message' });
    a.ws.send(Buffer.from('binary is ignored'), { binary: true });
    const b = await client('room=s4');
    expect(await a.next('paired')).toMatchObject({ role: 'offerer' });
    b.ws.close();
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left' });
    a.ws.close();
  });

  it('a frame over 64 KiB closes the socket (1009) and the server keeps serving', async () => {
    const a = await client('room=s5');
    await a.next('waiting');
    a.ws.send('x'.repeat(64 * 1024 + 1));
    expect(await a.closed).toBe(1009);
    const b = await client('room=s5');
    expect(await b.next('waiting')).toMatchObject({ room: 's5' });
    b.ws.close();
  });
});
