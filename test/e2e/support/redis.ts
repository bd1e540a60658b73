import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** Redis the end-to-end tests use; .ci/run starts one on 127.0.0.1:6379 when none answers. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh key prefix per test file, so files never see each other's queues. */
export function freshPrefix(label: string): string {
  return `sytest-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under a prefix (test cleanup). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
