/**
 * room$ (the page's side of signalling) without a network: a fake WebSocket and fake peer
 * connections, timers in virtual time. Covers what the page added for issue #15: joining by
 * code, the server's iceServers, the unknown-code error, and the connect timeout.
 */
import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { room$, RoomError, type RoomEvent } from '../../examples/web/room$';

/** A WebSocket the test drives: `receive` delivers a server frame, `sent` collects what the page sent. */
class FakeSocket extends EventTarget {
  static last: FakeSocket | undefined;
  static readonly OPEN = 1;
  readyState = 1;
  readonly sent: unknown[] = [];
  constructor(readonly url: string) {
    super();
    FakeSocket.last = this;
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(): void {
    this.readyState = 3;
  }
  receive(message: unknown): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify(message) }));
  }
}

/** A peer connection that never connects (no candidate pair), recording its configuration. */
class StuckPeerConnection extends EventTarget {
  static configs: unknown[] = [];
  connectionState = 'new';
  closed = false;
  constructor(readonly config: unknown) {
    super();
  }
  createDataChannel(): object {
    return {};
  }
  async createOffer(): Promise<{ type: string; sdp: string }> {
    return { type: 'offer', sdp: 'v=0\r\n' };
  }
  async setLocalDescription(): Promise<void> {}
  get localDescription(): { toJSON(): unknown } {
    return { toJSON: () => ({ type: 'offer', sdp: 'v=0\r\n' }) };
  }
  close(): void {
    this.closed = true;
  }
}

const realWebSocket = globalThis.WebSocket;
beforeEach(() => {
  (globalThis as any).WebSocket = FakeSocket;
  StuckPeerConnection.configs = [];
});
afterEach(() => {
  (globalThis as any).WebSocket = realWebSocket;
});

const create = (iceServers: readonly unknown[]): RTCPeerConnection => {
  StuckPeerConnection.configs.push(iceServers);
  return new StuckPeerConnection({ iceServers }) as unknown as RTCPeerConnection;
};

describe('room$', () => {
  it('joins by code (as typed), and shows the code and the server’s iceServers', () => {
    const events: RoomEvent[] = [];
    const sub = room$({ signalUrl: 'ws://127.0.0.1:1/signal', code: 'k7q m2x', lanes: 2, createPeerConnection: create }).subscribe((e) => events.push(e));
    expect(FakeSocket.last!.url).toBe('ws://127.0.0.1:1/signal?code=k7q+m2x&lanes=2');
    FakeSocket.last!.receive({ type: 'paired', role: 'answerer', lanes: 1, room: 'r1', iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }] });
    expect(events.map((e) => e.kind)).toEqual(['signalling', 'pairing']);
    expect(events[1]).toMatchObject({ kind: 'pairing', role: 'answerer', room: 'r1' });
    expect(StuckPeerConnection.configs).toEqual([[{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }]]);
    sub.unsubscribe();
  });

  it('passes the room code of `waiting` on', () => {
    const events: RoomEvent[] = [];
    const sub = room$({ signalUrl: 'ws://h/signal', room: 'abc', lanes: 2, createPeerConnection: create }).subscribe((e) => events.push(e));
    FakeSocket.last!.receive({ type: 'waiting', room: 'abc', code: 'K7QM2X', resume: 'seat' });
    expect(events[1]).toEqual({ kind: 'waiting', room: 'abc', code: 'K7QM2X', resume: 'seat' });
    sub.unsubscribe();
  });

  it('errors with RoomError unknown-code when the server does not know the code', () => {
    let error: unknown;
    room$({ signalUrl: 'ws://h/signal', code: 'ZZZZZZ', lanes: 2, createPeerConnection: create }).subscribe({ error: (e) => (error = e) });
    FakeSocket.last!.receive({ type: 'error', code: 'unknown-code', message: 'no room has this code' });
    expect(error).toBeInstanceOf(RoomError);
    expect(error).toMatchObject({ code: 'unknown-code' });
  });

  it('fails with a clear reason when the lanes are not connected within connectTimeoutMs, and closes them', () => {
    const scheduler = new VirtualTimeScheduler();
    const events: RoomEvent[] = [];
    const pcs: StuckPeerConnection[] = [];
    const sub = room$({
      signalUrl: 'ws://h/signal',
      room: 'abc',
      lanes: 2,
      connectTimeoutMs: 15_000,
      scheduler,
      createPeerConnection: (ice) => {
        const pc = create(ice);
        pcs.push(pc as unknown as StuckPeerConnection);
        return pc;
      },
    }).subscribe((e) => events.push(e));
    FakeSocket.last!.receive({ type: 'paired', role: 'answerer', lanes: 2 });
    scheduler.maxFrames = 14_999;
    scheduler.flush();
    expect(events.map((e) => e.kind)).toEqual(['signalling', 'pairing']);
    scheduler.maxFrames = 15_000;
    scheduler.flush();
    expect(events.at(-1)).toEqual({ kind: 'failed', reason: 'no connection after 15 s: the two devices found no network path to each other (on different networks, a TURN server is needed)' });
    expect(pcs.map((pc) => pc.closed)).toEqual([true, true]);
    // Without TURN servers the page asked for none.
    expect(StuckPeerConnection.configs).toEqual([[], []]);
    sub.unsubscribe();
  });
});
