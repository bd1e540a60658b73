import { Redis, type RedisOptions } from 'ioredis';

/**
 * - `producer`: API commands. Fails fast while Redis is down (no offline queue), so a
 *   request gets a quick 503 instead of piling up in memory.
 * - `worker`: BullMQ workers and blocking commands; retries forever, as BullMQ requires.
 * - `subscriber`: the reply channel; reconnects and resubscribes by itself.
 */
export type ConnectionRole = 'producer' | 'worker' | 'subscriber';

export function createRedis(url: string, role: ConnectionRole, name: string): Redis {
  const options: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    enableOfflineQueue: role !== 'producer',
  };
  return new Redis(url, options);
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
