import { send, type Outcome } from './load.js';
import { sleep } from './processes.js';

/** A call to the management API (or any JSON route), with an optional bearer key. */
export async function call(base: string, method: string, path: string, body?: unknown, key?: string): Promise<Outcome> {
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body === undefined) {
    const started = performance.now();
    const res = await fetch(base + path, { method, headers, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, ms: performance.now() - started, body: parsed, headers: res.headers };
  }
  return send(base + path, body, { method, headers });
}

/** The management API of one API instance, used with the admin key (or none when AUTH is off). */
export class Management {
  constructor(
    readonly base: string,
    readonly adminKey?: string,
  ) {}

  call(method: string, path: string, body?: unknown): Promise<Outcome> {
    return call(this.base, method, `/v1/management${path}`, body, this.adminKey);
  }

  /** Like `call`, but fails unless the status is the expected one; returns the body. */
  async ok(method: string, path: string, body?: unknown, expected = [200, 201, 204]): Promise<any> {
    const res = await this.call(method, path, body);
    if (!expected.includes(res.status)) {
      throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(res.body ?? res.error)}`);
    }
    return res.body;
  }

  /** Registers `faq/1` of the reference repository as the given version of `model`. */
  registerFaq(model: string, version: string): Promise<any> {
    return this.ok('POST', `/models/${model}/versions`, { repository_path: 'faq/1', version });
  }

  /** Creates an endpoint; returns its plain keys. */
  async createEndpoint(name: string): Promise<{ primary: string; secondary: string }> {
    const body = await this.ok('POST', '/endpoints', { name });
    return body.keys as { primary: string; secondary: string };
  }

  putDeployment(endpoint: string, deployment: string, model: string, version: string): Promise<any> {
    return this.ok('PUT', `/endpoints/${endpoint}/deployments/${deployment}`, {
      model,
      version,
      settings: { max_queue_delay_ms: 1 },
    });
  }

  setTraffic(endpoint: string, traffic: Record<string, number>): Promise<any> {
    return this.ok('PUT', `/endpoints/${endpoint}/traffic`, traffic);
  }

  setMirror(endpoint: string, deployment: string, percent: number): Promise<any> {
    return this.ok('PUT', `/endpoints/${endpoint}/mirror`, { deployment, percent });
  }

  async deployments(endpoint: string): Promise<any[]> {
    return (await this.ok('GET', `/endpoints/${endpoint}/deployments`)).deployments as any[];
  }

  /** Polls until the deployment's live workers serve exactly `versions` (e.g. after a switch). */
  async waitServing(endpoint: string, deployment: string, versions: string[], timeoutMs = 120_000): Promise<number> {
    const started = Date.now();
    let last: unknown;
    while (Date.now() - started < timeoutMs) {
      const d = (await this.deployments(endpoint)).find((x) => x.name === deployment);
      last = d?.serving;
      if (d && d.workers > 0 && JSON.stringify([...(d.serving as string[])].sort()) === JSON.stringify(versions)) {
        return Date.now() - started;
      }
      await sleep(200);
    }
    throw new Error(`${endpoint}/${deployment} still serves ${JSON.stringify(last)}, not ${JSON.stringify(versions)}`);
  }
}

/** A friendly `faq` request through an endpoint. */
export function scoreFaq(
  base: string,
  endpoint: string,
  key: string | undefined,
  text: string,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  return send(
    `${base}/v1/endpoints/${endpoint}/score`,
    { text },
    { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, timeoutMs: 60_000 },
  );
}

export const FAQ_QUESTIONS = [
  'how to deep clone an object',
  'how do I reverse a string',
  'what is a closure',
  'how to merge two arrays',
  'how to read a file line by line',
];

/** Counts outcomes by the `x-deployment` response header. */
export function byDeployment(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const d = o.headers?.get('x-deployment') ?? '(none)';
    counts[d] = (counts[d] ?? 0) + 1;
  }
  return counts;
}

/** The `served` counters a worker reports on its readiness route. */
export async function servedBy(workerUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${workerUrl}/health/ready`);
  return ((await res.json()) as { served: Record<string, number> }).served;
}
