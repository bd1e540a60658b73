import { request } from 'node:http';
import { sleep, type ServiceProcess } from './processes.js';
import type { Outcome } from './load.js';

interface Backend {
  api: ServiceProcess;
  ready: boolean;
}

/**
 * A client-side stand-in for a load balancer in front of API instances: it polls each
 * instance's `GET /v2/health/ready` every 100 ms and routes each request round-robin to the
 * instances that answered 200 last time (503 or no answer takes an instance out). A request
 * is retried on another instance only when its connection was refused (ECONNREFUSED), i.e.
 * before anything was sent; any other failure is the request's outcome.
 * Each request uses its own connection, as a proxy opening upstream connections would.
 */
export class MiniBalancer {
  private readonly backends: Backend[] = [];
  private next = 0;
  private polling = true;
  private readonly poller: Promise<void>;
  retries = 0;

  constructor(apis: ServiceProcess[] = []) {
    for (const api of apis) this.add(api);
    this.poller = this.pollLoop();
  }

  /** Starts routing to an instance once it reports ready. */
  add(api: ServiceProcess): void {
    this.backends.push({ api, ready: false });
  }

  get readyCount(): number {
    return this.backends.filter((b) => b.ready).length;
  }

  /** Waits until the instance reports ready to the balancer. */
  async waitRouted(api: ServiceProcess, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.backends.find((b) => b.api === api)?.ready) {
      if (Date.now() > until) throw new Error(`${api.name} on ${api.port} not routed after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.polling = false;
    await this.poller;
  }

  async post(path: string, body: unknown, timeoutMs = 60_000): Promise<Outcome & { instance?: number }> {
    const started = performance.now();
    const tried = new Set<Backend>();
    while (performance.now() - started < timeoutMs) {
      const backend = this.pick(tried);
      if (!backend) {
        // Nobody ready (or all refused): wait for the next poll, as a balancer would queue.
        tried.clear();
        await sleep(50);
        continue;
      }
      const result = await postOnce(backend.api.url + path, body, timeoutMs);
      if (result.error === 'ECONNREFUSED') {
        backend.ready = false;
        tried.add(backend);
        this.retries++;
        continue;
      }
      return { ...result, ms: performance.now() - started, instance: backend.api.port };
    }
    return { status: 0, ms: performance.now() - started, error: 'timeout (no instance took the request)' };
  }

  private pick(exclude: Set<Backend>): Backend | undefined {
    const candidates = this.backends.filter((b) => b.ready && !exclude.has(b));
    if (candidates.length === 0) return undefined;
    return candidates[this.next++ % candidates.length];
  }

  private async pollLoop(): Promise<void> {
    while (this.polling) {
      await Promise.all(
        this.backends.map(async (b) => {
          const res = await postOnce(b.api.url + '/v2/health/ready', undefined, 2000, 'GET');
          b.ready = res.status === 200;
        }),
      );
      await sleep(100);
    }
  }
}

/** One HTTP request on a fresh connection; never throws. */
function postOnce(url: string, body: unknown, timeoutMs: number, method = 'POST'): Promise<Outcome> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(url, {
      method,
      agent: false,
      timeout: timeoutMs,
      headers: payload
        ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
        : undefined,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // kept as text
        }
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: parsed });
      });
      res.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ status: 0, ms: performance.now() - started, error: err.code ?? err.message }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, ms: performance.now() - started, error: err.code ?? err.message }),
    );
    req.end(payload);
  });
}
