/**
 * Several rendezvous instances on one real redis-server (127.0.0.1, no persistence): peers on
 * different instances pair and signal each other, a room's second seat goes to exactly one of two
 * simultaneous joiners, limits are shared, and a killed instance (SIGKILL, a child process) loses
 * nothing of a waiting room: its peer takes its seat back on another instance with its resume token,
 * same room, same code, and the next peer pairs with it through a restarted instance.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/server/redisStore';
import { startRendezvousServer, type RendezvousServer } from '../../src/server/startRendezvousServer';
import { startRedisServer, type RedisServer } from './redisServer';
import { startServeProcess, type ServeProcess } from './serveProcess';
import { wsClient, type TestClient } from './wsClient';

const HOST = 'candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host';
const offer = (lane = 0) => JSON.stringify({ type: 'signal', lane, description: { type: 'offer', sdp: 'v=0\r\n' } });

let redis: RedisServer;
let one: RendezvousServer;
let two: RendezvousServer;
const clients: TestClient[] = [];
const processes: ServeProcess[] = [];
const client = async (url: string, query: string) => {
  const c = await wsClient(url, query);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  redis = await startRedisServer();
  [one, two] = await Promise.all([startRendezvousServer({ port: 0, redisUrl: redis.url }), startRendezvousServer({ port: 0, redisUrl: redis.url })]);
}, 60_000);
// Each test starts from an empty Redis: the join limits are shared, so one test's joins would count in the next.
beforeEach(async () => {
  const r = new Redis(redis.url);
  await r.flushall();
  r.disconnect();
});
afterAll(async () => {
  clients.forEach((c) => c.ws.terminate());
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await Promise.all([one?.close(), two?.close()]);
  await redis?.stop();
});

describe('rendezvous on Redis: several instances, one room', () => {
  it('a peer on instance 1 and a peer on instance 2 pair by code and signal each other both ways', async () => {
    const a = await client(one.signalUrl, 'room=cross&lanes=2');
    const { code, resume } = await a.next('waiting');
    const b = await client(two.signalUrl, `code=${code}&lanes=1`);
    expect(await a.next('paired')).toEqual({ type: 'paired', role: 'offerer', lanes: 1, room: 'cross', iceServers: [], resume });
    expect(await b.next('paired')).toMatchObject({ type: 'paired', role: 'answerer', lanes: 1, room: 'cross' });
    a.ws.send(offer(0));
    expect(await b.next('signal')).toEqual({ type: 'signal', lane: 0, description: { type: 'offer', sdp: 'v=0\r\n' } });
    b.ws.send(JSON.stringify({ type: 'signal', lane: 0, candidate: { candidate: HOST, sdpMid: '0', sdpMLineIndex: 0 } }));
    expect(await a.next('signal')).toMatchObject({ lane: 0, candidate: { candidate: HOST } });
    b.ws.close();
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left' });
  });

  it('a code whose room both peers left is unknown-code on either instance (a used code fails at once)', async () => {
    const a = await client(one.signalUrl, 'room=used&lanes=1');
    const { code } = await a.next('waiting');
    const b = await client(two.signalUrl, `code=${code}&lanes=1`);
    await b.next('paired');
    b.ws.close();
    await a.next('peer-left');
    a.ws.close();
    // The room has no seat once the last one is left (a clean close; the record stays, with its code, until its
    // time-to-live): read it back from Redis, not on a timer.
    const r = new Redis(redis.url);
    const seats = async () => (JSON.parse((await r.get('tallow-rx:room:used')) ?? '{"members":[]}') as { members: unknown[] }).members.length;
    for (let i = 0; i < 100 && (await seats()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await seats()).toBe(0);
    r.disconnect();
    const late = await client(two.signalUrl, `code=${code}&lanes=1`);
    expect(await late.next('error')).toMatchObject({ code: 'unknown-code' });
  });

  it('two peers joining one waiting room at once on different instances: exactly one is paired, the other gets full', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await client(one.signalUrl, `room=race${round}`);
      const { code } = await a.next('waiting');
      const [x, y] = await Promise.all([client(one.signalUrl, `code=${code}`), client(two.signalUrl, `code=${code}`)]);
      const outcome = await Promise.all([x, y].map((c) => Promise.race([c.next('paired').then(() => 'paired'), c.next('full').then(() => 'full')])));
      expect(outcome.sort()).toEqual(['full', 'paired']);
    }
  });

  it('the per-code join limit is shared: tries on either instance count against the same code', async () => {
    const a = await client(one.signalUrl, 'room=limited');
    const { code } = await a.next('waiting');
    // 10 per minute per code (the default): 5 here, 5 there; the joiners leave again at once.
    for (let i = 0; i < 10; i++) {
      const c = await client(i % 2 ? one.signalUrl : two.signalUrl, `code=${code}`);
      await c.next('paired');
      c.ws.close();
      await a.next('peer-left');
    }
    const late = await client(two.signalUrl, `code=${code}`);
    expect(await late.next('error')).toMatchObject({ code: 'rate-limited' });
    expect(await late.closed).toBe(4029);
  });

  it('a store that cannot reach Redis answers unavailable instead of crashing', async () => {
    await expect(redisStore('redis://user:pw@127.0.0.1:1')).rejects.toMatchObject({ name: 'TallowError', code: 'ERR_STORE_UNAVAILABLE', details: { url: 'redis://user:***@127.0.0.1:1' } });
  });
});

describe('rendezvous on Redis: an instance dies', () => {
  it('SIGKILL while a peer waits: it resumes on another instance with the same room and code; the next peer pairs through a restarted instance', async () => {
    const dying = await startServeProcess(['--redis', redis.url]);
    processes.push(dying);
    const a = await client(dying.signalUrl, 'room=survivor&lanes=2');
    const waiting = await a.next('waiting');

    await dying.kill('SIGKILL');
    expect(await a.closed).toBe(1006);

    // The peer comes back on instance 2 with its token: its seat, its room and its code are all there.
    const again = await client(two.signalUrl, `room=survivor&lanes=2&resume=${waiting.resume}`);
    expect(await again.next('waiting')).toEqual({ ...waiting });

    // The instance is restarted (new process, new port); the other peer types the code there.
    const restarted = await startServeProcess(['--redis', redis.url]);
    processes.push(restarted);
    const b = await client(restarted.signalUrl, `code=${waiting.code}&lanes=2`);
    expect(await again.next('paired')).toMatchObject({ role: 'offerer', room: 'survivor', resume: waiting.resume });
    expect(await b.next('paired')).toMatchObject({ role: 'answerer', room: 'survivor' });
    b.ws.send(offer(1));
    expect(await again.next('signal')).toMatchObject({ lane: 1, description: { type: 'offer' } });
  }, 60_000);

  it('without its token, a dead instance’s seat is held until its lease (30 s) runs out: a joiner pairs with it (and pairs again when the peer resumes)', async () => {
    const dying = await startServeProcess(['--redis', redis.url]);
    processes.push(dying);
    const a = await client(dying.signalUrl, 'room=leased');
    const { code, resume } = await a.next('waiting');
    await dying.kill('SIGKILL');
    const b = await client(two.signalUrl, `code=${code}`);
    expect(await b.next('paired')).toMatchObject({ role: 'answerer', room: 'leased' });
    // The peer comes back: both are paired afresh (b drops the half-made lanes and negotiates again).
    const again = await client(one.signalUrl, `room=leased&resume=${resume}`);
    expect(await again.next('paired')).toMatchObject({ role: 'offerer', resume });
    expect(await b.next('paired')).toMatchObject({ role: 'answerer' });
  }, 60_000);
});
