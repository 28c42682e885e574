/** `tallow-rx serve`: the rendezvous server alone, until SIGINT/SIGTERM. */
import { isOrigin, isRedisUrl, isTurnUrl } from '../server/checkServerConfig';
import { startRendezvousServer } from '../server/startRendezvousServer';
import { UsageError } from './exitCodes';

/** Flags of `serve`, as parsed. */
export interface ServeFlags {
  readonly host?: string;
  readonly port?: string;
  readonly redis?: string;
  readonly 'turn-url'?: string[];
  readonly 'turn-secret'?: string;
  readonly 'turn-ttl'?: string;
  readonly 'code-ttl'?: string;
  readonly 'allow-origin'?: string[];
  readonly 'trust-proxy'?: boolean;
}

/** A non-negative integer flag. */
export function integerFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  return n;
}

/** Starts the server; resolves with the exit code when it is stopped by a signal. */
export async function serveCommand(flags: ServeFlags, out: NodeJS.WritableStream): Promise<number> {
  const turnUrls = flags['turn-url'] ?? [];
  const secret = flags['turn-secret'] ?? process.env.TURN_SECRET;
  if (turnUrls.length && !secret) throw new UsageError('--turn-url needs --turn-secret (or TURN_SECRET)');
  for (const flag of ['turn-secret', 'turn-ttl'] as const) {
    if (!turnUrls.length && flags[flag] !== undefined) throw new UsageError(`--${flag} needs --turn-url`);
  }
  const redisUrl = flags.redis ?? (process.env.REDIS_URL || undefined);
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) throw new UsageError(`--redis (or REDIS_URL) must be a redis:// or rediss:// URL, got ${redisUrl}`);
  const badUrl = turnUrls.find((u) => !isTurnUrl(u));
  if (badUrl !== undefined) throw new UsageError(`--turn-url must be a turn: or turns: URL (turn:turn.example.org:3478), got ${badUrl}`);
  const origins = flags['allow-origin'] ?? [];
  const badOrigin = origins.find((o) => o !== '*' && !isOrigin(o));
  if (badOrigin !== undefined) throw new UsageError(`--allow-origin must be an origin like https://send.example.org (or '*'), got ${badOrigin}`);
  const server = await startRendezvousServer({
    host: flags.host,
    port: integerFlag('port', flags.port, 0, 65535),
    redisUrl,
    turn: turnUrls.length ? { urls: turnUrls, secret: secret!, ttlSeconds: integerFlag('turn-ttl', flags['turn-ttl'], 60, 86_400 * 7) } : undefined,
    codeTtlMs: (integerFlag('code-ttl', flags['code-ttl'], 10, 86_400) ?? 600) * 1000,
    allowedOrigins: origins.includes('*') ? '*' : origins.length ? origins : 'same',
    trustProxy: flags['trust-proxy'],
  });
  out.write(`tallow-rx rendezvous listening on ${server.url} (signal ${server.signalUrl}; rooms in ${redisUrl ? 'Redis' : 'memory'}${turnUrls.length ? `; TURN ${turnUrls.join(' ')}` : ''})\n`);
  return new Promise<number>((resolve) => {
    const stop = (): void => void server.close().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
