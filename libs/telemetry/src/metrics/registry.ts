import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A Prometheus registry for one process, with Node's default process metrics (`process_*`,
 * `nodejs_*`) beside Switchyard's own `switchyard_*` metrics.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Resolves `promise`, or `fallback` after `ms` (a scrape must not hang on a slow Redis). */
export function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}
