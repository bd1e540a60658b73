import { ScoringError } from '#contracts';
import { ManagementKeys, ManagementStore, RedisTransport, type ApiEnv, type ScoringTransport } from '#runtime';

export const MANAGEMENT_STORE = Symbol('MANAGEMENT_STORE');

/** Management state lives in Redis; the embedded mode has none. */
export function managementStoreFor(env: ApiEnv, transport: ScoringTransport): ManagementStore | null {
  return transport instanceof RedisTransport
    ? new ManagementStore(transport.redis, new ManagementKeys(env.REDIS_PREFIX))
    : null;
}

/** The store, or 501 in embedded mode where endpoints and the registry do not exist. */
export function requireStore(store: ManagementStore | null): ManagementStore {
  if (!store) {
    throw new ScoringError(
      501,
      'model management needs the distributed topology (set REDIS_URL); embedded mode serves the repository only',
    );
  }
  return store;
}
