/**
 * The parts of `redisStore` around its store methods: the two connections ({@link connectRedis}), the events
 * they deliver ({@link channelHandlers}), the key names ({@link redisKeys}, the layout redisStore.ts draws),
 * and the compare-and-set that changes a room record ({@link updateRoom}).
 */
import type { Redis as RedisClient } from 'ioredis';
import { TallowError } from '../errors';
import type { BusEvent, RoomRecord } from './RendezvousStore';

/** Compare-and-set of a room record, optionally claiming a code. Returns 1 (done), 0 (record changed), -1 (code taken). */
const CAS_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
if ARGV[4] ~= '' then
  local owner = redis.call('GET', KEYS[2])
  if owner and owner ~= ARGV[4] then return -1 end
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
elseif ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

/** Tries before a compare-and-set gives up (only under heavy contention on one room). */
const CAS_ATTEMPTS = 20;

/**
 * A command Redis has not answered by then fails, ms: the join waiting on it is refused with `unavailable` (4503).
 * Without it a Redis that hangs (stopped, partitioned) held every join open for good; a dead one failed at once.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 3_000;

/** Connects to Redis twice (commands, and subscriptions); rejects with the URL shown without its password. */
export async function connectRedis(Redis: typeof import('ioredis').Redis, url: string): Promise<{ redis: RedisClient; sub: RedisClient }> {
  const options = { maxRetriesPerRequest: 2, lazyConnect: true, commandTimeout: REDIS_COMMAND_TIMEOUT_MS, connectTimeout: 10_000 };
  const redis: RedisClient = new Redis(url, options);
  const sub: RedisClient = new Redis(url, options);
  // Keep a broken connection from crashing the process: ioredis emits 'error' and reconnects.
  redis.on('error', () => undefined);
  sub.on('error', () => undefined);
  await Promise.all([redis.connect(), sub.connect()]).catch((error: Error) => {
    redis.disconnect();
    sub.disconnect();
    // The URL without its password: it ends up in logs.
    const shown = url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
    throw new TallowError('ERR_STORE_UNAVAILABLE', `cannot reach Redis at ${shown}: ${error.message}`, { url: shown }, { cause: error });
  });
  return { redis, sub };
}

/** Event handlers by channel name: each message on `sub` goes to its channel's handler as a `BusEvent`. */
export function channelHandlers(sub: RedisClient): Map<string, (event: BusEvent) => void> {
  const handlers = new Map<string, (event: BusEvent) => void>();
  sub.on('message', (channel: string, text: string) => {
    const handler = handlers.get(channel);
    if (!handler) return;
    try {
      handler(JSON.parse(text) as BusEvent);
    } catch {
      // Not ours: another deployment with the same prefix, or a hand-typed PUBLISH.
    }
  });
  return handlers;
}

/** The names of a store's keys and channels under `prefix`. */
export interface RedisKeys {
  room(name: string): string;
  code(code: string): string;
  /** A member's pub/sub channel. */
  channel(memberId: string): string;
  /** A limiter's counter for one key (an address, a code). */
  limit(name: string, key: string): string;
}

export const redisKeys = (prefix: string): RedisKeys => ({
  room: (name) => `${prefix}room:${name}`,
  code: (code) => `${prefix}code:${code}`,
  channel: (memberId) => `${prefix}m:${memberId}`,
  limit: (name, key) => `${prefix}limit:${name}:${key}`,
});

/**
 * A change of a room record, given the record as read (undefined: no room): the record to write back (undefined
 * deletes it), its TTL (undefined keeps the current one), a code to claim for the room, the caller's result,
 * and whether to write at all.
 */
export type RoomChange<R> = (before: RoomRecord | undefined) => {
  next: RoomRecord | undefined;
  ttlMs?: number;
  code?: { code: string; ttlMs: number };
  result: R;
  write: boolean;
};

/** A room record as Redis holds it (JSON), or undefined for none. */
export const parseRoom = (raw: string | null): RoomRecord | undefined => (raw ? (JSON.parse(raw) as RoomRecord) : undefined);

/** Reads the record, applies `change`, writes it back if unchanged; retries otherwise. */
export async function updateRoom<R>(redis: RedisClient, keys: RedisKeys, name: string, change: RoomChange<R>): Promise<R | 'code-taken'> {
  for (let i = 0; i < CAS_ATTEMPTS; i++) {
    const raw = (await redis.get(keys.room(name))) ?? '';
    const c = change(parseRoom(raw));
    if (!c.write) return c.result;
    const code = c.code;
    const done = (await redis.eval(
      CAS_SCRIPT,
      2,
      keys.room(name),
      code ? keys.code(code.code) : keys.room(name),
      raw,
      c.next ? JSON.stringify(c.next) : '',
      c.ttlMs === undefined ? '' : String(c.ttlMs),
      code ? name : '',
      code ? String(code.ttlMs) : '0',
    )) as number;
    if (done === 1) return c.result;
    if (done === -1) return 'code-taken';
  }
  throw new Error(`room ${name}: too many concurrent changes`);
}
