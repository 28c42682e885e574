/**
 * The rendezvous store in Redis, for several server instances: rooms and codes
 * are keys with a TTL, limits are counters with a TTL, and each member has a
 * pub/sub channel that reaches whichever instance holds its socket.
 *
 * ```
 * <prefix>room:<name>        JSON RoomRecord          PX roomTtlMs (renewed with the leases)
 * <prefix>code:<CODE>        room name                PX codeTtlMs
 * <prefix>limit:<name>:<key> attempts in the window   PX windowMs
 * <prefix>m:<memberId>       pub/sub channel of BusEvent JSON
 * ```
 *
 * A room changes by compare-and-set: read the record, apply the rule from
 * roomRecord.ts, write it back only if nobody changed it meanwhile (one Lua
 * script), else read again. Two instances joining one room at once cannot
 * both take its second seat.
 *
 * Uses ioredis (an optional peer dependency of `tallow-rx/server`), loaded
 * when the store is created.
 */
import type { Redis as RedisClient } from 'ioredis';
import { applyJoin, applyLeave, applyRenew } from './roomRecord';
import type { BusEvent, RendezvousStore, RoomRecord } from './RendezvousStore';

/** Options of {@link redisStore}. */
export interface RedisStoreConfig {
  /** Key and channel prefix, so several deployments can share one Redis. Default `tallow-rx:`. */
  readonly prefix?: string;
}

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

/** Fixed-window counter: INCR, and start the window on the first attempt. */
const LIMIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** Tries before a compare-and-set gives up (only under heavy contention on one room). */
const CAS_ATTEMPTS = 20;

/** Loads ioredis, with a clear message when it is not installed. */
async function loadIoredis(): Promise<typeof import('ioredis').Redis> {
  try {
    const mod = await import('ioredis');
    return mod.Redis ?? (mod as unknown as { default: typeof import('ioredis').Redis }).default;
  } catch (error) {
    throw new Error('REDIS_URL is set but the ioredis package is not installed: npm install ioredis', { cause: error });
  }
}

/**
 * Connects to Redis (two connections: commands, and subscriptions).
 *
 * @param url `redis://[user:password@]host:port[/db]`
 */
export async function redisStore(url: string, config: RedisStoreConfig = {}): Promise<RendezvousStore> {
  const Redis = await loadIoredis();
  const prefix = config.prefix ?? 'tallow-rx:';
  const options = { maxRetriesPerRequest: 2, lazyConnect: true };
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
    throw new Error(`cannot reach Redis at ${shown}: ${error.message}`, { cause: error });
  });
  // Event handlers by channel name.
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

  const roomKey = (name: string): string => `${prefix}room:${name}`;
  const codeKey = (code: string): string => `${prefix}code:${code}`;
  const channel = (memberId: string): string => `${prefix}m:${memberId}`;

  /** Reads the record, applies `change`, writes it back if unchanged; retries otherwise. */
  const update = async <R>(
    name: string,
    change: (before: RoomRecord | undefined) => { next: RoomRecord | undefined; ttlMs?: number; code?: { code: string; ttlMs: number }; result: R; write: boolean },
  ): Promise<R | 'code-taken'> => {
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const raw = (await redis.get(roomKey(name))) ?? '';
      const c = change(raw ? (JSON.parse(raw) as RoomRecord) : undefined);
      if (!c.write) return c.result;
      const code = c.code;
      const done = (await redis.eval(
        CAS_SCRIPT,
        2,
        roomKey(name),
        code ? codeKey(code.code) : roomKey(name),
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
  };

  return {
    async join(request) {
      const result = await update(request.room, (before) => {
        const change = applyJoin(before, request);
        return {
          next: change.next,
          ttlMs: request.roomTtlMs,
          code: change.newCode && change.next ? { code: change.next.code, ttlMs: request.codeTtlMs } : undefined,
          result: change.result,
          write: change.next !== undefined,
        };
      });
      return result === 'code-taken' ? { kind: 'code-taken' } : result;
    },
    async roomOfCode(code) {
      const room = await redis.get(codeKey(code));
      // A code opens a room only while someone holds a seat in it: once both peers left, the transfer is over.
      return room && (await redis.exists(roomKey(room))) ? room : undefined;
    },
    async leave(room, memberId) {
      const result = await update(room, (before) => {
        const next = applyLeave(before, memberId);
        return { next, result: next, write: before !== undefined };
      });
      return result === 'code-taken' ? undefined : result;
    },
    async renew(seats, leaseUntil, roomTtlMs) {
      for (const { room, memberId } of seats) {
        await update(room, (before) => {
          const next = applyRenew(before, memberId, leaseUntil);
          return { next, ttlMs: roomTtlMs, result: undefined, write: next !== undefined };
        });
      }
    },
    async publish(memberId, event) {
      await redis.publish(channel(memberId), JSON.stringify(event));
    },
    async subscribe(memberId, handler) {
      const name = channel(memberId);
      handlers.set(name, handler);
      await sub.subscribe(name);
      return () => {
        if (handlers.get(name) !== handler) return;
        handlers.delete(name);
        void sub.unsubscribe(name).catch(() => undefined);
      };
    },
    limiter(name, limit) {
      return {
        async take(key) {
          const n = (await redis.eval(LIMIT_SCRIPT, 1, `${prefix}limit:${name}:${key}`, String(limit.windowMs))) as number;
          return n <= limit.limit;
        },
      };
    },
    async close() {
      handlers.clear();
      redis.disconnect();
      sub.disconnect();
    },
  };
}
