import type { Redis } from 'ioredis';

/**
 * BullMQ needs `maxmemory-policy noeviction`: with any other policy, Redis under memory
 * pressure deletes job keys and accepted requests vanish. Returns a warning to log loudly,
 * or undefined when the policy is right. Managed Redis may forbid CONFIG; say so then.
 */
export async function evictionPolicyWarning(redis: Redis): Promise<string | undefined> {
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy === 'noeviction') return undefined;
    return (
      `Redis maxmemory-policy is '${policy}', not 'noeviction': under memory pressure Redis may evict ` +
      'queued jobs and accepted requests would be lost. Set maxmemory-policy noeviction.'
    );
  } catch (err) {
    return `cannot read Redis maxmemory-policy (${(err as Error).message}); make sure it is 'noeviction'`;
  }
}
