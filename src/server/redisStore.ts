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
 * script), else read again (updateRoom, in redisStoreInternals.ts). Two
 * instances joining one room at once cannot both take its second seat.
 *
 * Uses ioredis (an optional peer dependency of `tallow-rx/server`), loaded
 * when the store is created.
 */
import { applyJoin, applyLeave, applyRenew, hasSeats } from './roomRecord';
import type { RendezvousStore } from './RendezvousStore';
import { channelHandlers, connectRedis, parseRoom, redisKeys, updateRoom, type RoomChange } from './redisStoreInternals';

/** Options of {@link redisStore}. */
export interface RedisStoreConfig {
  /** Key and channel prefix, so several deployments can share one Redis. Default `tallow-rx:`. */
  readonly prefix?: string;
}

/** Fixed-window counter: INCR, and start the window on the first attempt. */
const LIMIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

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
  const keys = redisKeys(config.prefix ?? 'tallow-rx:');
  const { redis, sub } = await connectRedis(Redis, url);
  const handlers = channelHandlers(sub);
  const update = <R>(name: string, change: RoomChange<R>) => updateRoom(redis, keys, name, change);

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
      const room = await redis.get(keys.code(code));
      // A code opens a room only while someone holds a seat in it: once both peers left, the transfer is over.
      return room && hasSeats(parseRoom(await redis.get(keys.room(room)))) ? room : undefined;
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
      await redis.publish(keys.channel(memberId), JSON.stringify(event));
    },
    async subscribe(memberId, handler) {
      const name = keys.channel(memberId);
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
          const n = (await redis.eval(LIMIT_SCRIPT, 1, keys.limit(name, key), String(limit.windowMs))) as number;
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
