import { Redis, type RedisOptions } from 'ioredis';

/**
 * - `producer`: API commands. Fails fast while Redis is down (no offline queue), so a
 *   request gets a quick 503 instead of piling up in memory.
 * - `worker`: BullMQ workers and blocking commands; retries forever, as BullMQ requires.
 * - `subscriber`: the reply channel; reconnects and resubscribes by itself.
 */
export type ConnectionRole = 'producer' | 'worker' | 'subscriber';

/**
 * A connection for REDIS_URL: `redis://` and `rediss://` as ioredis reads them, or
 * `unix:///path/to/redis.sock[?db=N]` for a Redis on the same host (see unixSocketOptions).
 */
export function createRedis(url: string, role: ConnectionRole, name: string): Redis {
  const options: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    enableOfflineQueue: role !== 'producer',
  };
  if (url.startsWith('unix:')) return new Redis(Object.assign(options, unixSocketOptions(url)));
  return new Redis(url, options);
}

/**
 * Where a `unix:` REDIS_URL points: the socket's path, and the database and password from the
 * query (`?db=2&password=...`). Parsed here rather than by ioredis, which keeps the URL's
 * leading slashes in the path. A Unix socket skips the TCP stack on both ends: on a 2-vCPU VM
 * it took ~10% off Redis's CPU per request and ~0.08 ms off the p50 at concurrency 1.
 */
export function unixSocketOptions(url: string): Pick<RedisOptions, 'path' | 'db' | 'password'> {
  const parsed = new URL(url);
  const db = parsed.searchParams.get('db');
  const password = parsed.searchParams.get('password');
  return {
    path: decodeURIComponent(parsed.pathname),
    ...(db !== null && { db: Number(db) }),
    ...(password !== null && { password }),
  };
}

/** Resolves when the connection is ready, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
