import { ApiEnv, ConfigError } from '#runtime';

/** Whether this API instance checks keys: AUTH, else on with Redis and off when embedded. */
export function authEnabled(env: ApiEnv): boolean {
  return (env.AUTH ?? (env.REDIS_URL ? 'on' : 'off')) === 'on';
}

/** Refuses to start with auth on and no admin key: the management API would be unusable. */
export function checkAuthSettings(env: ApiEnv): void {
  if (authEnabled(env) && !env.ADMIN_API_KEY) {
    throw new ConfigError(
      'invalid environment:\n  - ADMIN_API_KEY is required when AUTH is on (set AUTH=off only for local use)',
    );
  }
}
