/** A `ws` client for rendezvous tests that queues what it receives and waits for message types. */
import WebSocket from 'ws';

export interface TestClient {
  readonly ws: WebSocket;
  readonly inbox: any[];
  /** Resolves with (and removes) the next message of `type`; rejects after `timeoutMs`. */
  next(type: string, timeoutMs?: number): Promise<any>;
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
}

/** Connects to `signalUrl?query`. */
export async function wsClient(signalUrl: string, query: string): Promise<TestClient> {
  const ws = new WebSocket(`${signalUrl}?${query}`);
  const inbox: any[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    inbox.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (type: string, timeoutMs = 10_000): Promise<any> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} message; got ${JSON.stringify(inbox)}`)), timeoutMs);
      const check = (): void => {
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
