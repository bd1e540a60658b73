import { randomBytes } from 'node:crypto';

/** A new endpoint key: `sy_` and 32 random bytes, base64url. Shown once; only its hash is kept. */
export function newEndpointKey(): string {
  return `sy_${randomBytes(32).toString('base64url')}`;
}
