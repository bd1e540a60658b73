import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { sleep } from './processes.js';

/** One delivery as the receiver saw it: the raw body (for signature checks) and headers. */
export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  /** Status the receiver answered. */
  answered: number;
}

/**
 * A local webhook receiver on 127.0.0.1: records every delivery, and answers each path with
 * the statuses of `plan` in turn (then 200), e.g. `[500]` fails the first attempt.
 */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private readonly plans = new Map<string, number[]>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        const answered = this.plans.get(path)?.shift() ?? 200;
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
        this.deliveries.push({ path, headers: req.headers, raw, body, answered });
        if (answered >= 300 && answered < 400) res.setHeader('location', `http://127.0.0.1:${this.port}/elsewhere`);
        res.statusCode = answered;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Answers the next deliveries to `path` with these statuses. */
  plan(path: string, statuses: number[]): void {
    this.plans.set(path, [...statuses]);
  }

  to(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  /** Waits until `path` has received `count` deliveries. */
  async waitFor(path: string, count: number, timeoutMs = 20_000): Promise<Delivery[]> {
    const until = Date.now() + timeoutMs;
    while (this.to(path).length < count) {
      if (Date.now() > until)
        throw new Error(`${path}: ${this.to(path).length} of ${count} deliveries after ${timeoutMs} ms`);
      await sleep(25);
    }
    return this.to(path);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
