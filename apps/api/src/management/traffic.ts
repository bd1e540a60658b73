import { ScoringError } from '#contracts';
import type { EndpointRecord } from '#runtime';

/**
 * Checks a traffic split: every deployment exists, weights are integers 0..100 summing to 100
 * (or there are none: the endpoint takes no traffic until weights are set).
 */
export function checkTraffic(endpoint: EndpointRecord, traffic: unknown): Record<string, number> {
  if (!traffic || typeof traffic !== 'object' || Array.isArray(traffic)) {
    throw ScoringError.badRequest('traffic: must be an object of deployment → weight, e.g. {"blue": 90, "green": 10}');
  }
  const entries = Object.entries(traffic as Record<string, unknown>);
  for (const [name, weight] of entries) {
    if (!endpoint.deployments[name]) {
      throw ScoringError.badRequest(`traffic: endpoint '${endpoint.name}' has no deployment '${name}'`);
    }
    if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 100) {
      throw ScoringError.badRequest(`traffic.${name}: weight must be an integer from 0 to 100`);
    }
  }
  const sum = entries.reduce((n, [, w]) => n + (w as number), 0);
  if (entries.length > 0 && sum !== 100) throw ScoringError.badRequest(`traffic: weights sum to ${sum}, not 100`);
  return Object.fromEntries(entries.filter(([, w]) => (w as number) > 0)) as Record<string, number>;
}

/** Picks a deployment by weight; `roll` is uniform in [0, 100). */
export function pickDeployment(traffic: Record<string, number>, roll: number): string | undefined {
  let acc = 0;
  for (const [name, weight] of Object.entries(traffic)) {
    acc += weight;
    if (roll < acc) return name;
  }
  return undefined;
}
