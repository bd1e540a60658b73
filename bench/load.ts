import autocannon from 'autocannon';
import type { RequestShape } from './scenarios.js';

/** One closed-loop load run. */
export interface LoadSpec {
  /** Base URL of the server under test. */
  url: string;
  shape: RequestShape;
  /** Concurrent connections, each with one request in flight. */
  connections: number;
  durationS: number;
  /** Seconds before one request counts as timed out. */
  timeoutS: number;
}

/** Latency percentiles of successful responses, in ms. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** What a load run measured. */
export interface LoadResult {
  connections: number;
  durationS: number;
  /** 2xx responses. */
  ok: number;
  /** Non-2xx responses, connection errors and timeouts. */
  failed: number;
  /** 2xx responses per second. */
  throughput: number;
  latencyMs: Latency;
  /**
   * Batch sizes from each 2xx response's `Server-Timing: batch;desc="N"`; null when the
   * server sends none (the naive design: always 1). `perBatch` = responses / Σ(1/N), the mean
   * size of a batch; `perRequest` = ΣN / responses, the batch size an average request saw.
   */
  batch: { perBatch: number; perRequest: number } | null;
  /** Responses per HTTP status (plus `error` and `timeout`). */
  statuses: Record<string, number>;
}

const BATCH = /batch;desc="?(\d+)/;

/** Drives `connections` closed-loop clients for `durationS`, recording every response. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let batchSum = 0;
  let inverseSum = 0;
  let batchCount = 0;
  const requests = spec.shape.bodies.map((body) => ({
    method: 'POST',
    path: spec.shape.path,
    headers: { 'content-type': spec.shape.contentType, ...spec.shape.headers },
    body,
    onResponse: (status: number, _body: string, _ctx: unknown, headers: Record<string, string>) => {
      if (status < 200 || status >= 300) return;
      const match = BATCH.exec(String(headers['server-timing'] ?? headers['Server-Timing'] ?? ''));
      if (!match) return;
      const n = Number(match[1]);
      batchSum += n;
      inverseSum += 1 / n;
      batchCount++;
    },
  }));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const instance = autocannon(
      { url: spec.url, connections: spec.connections, duration: spec.durationS, timeout: spec.timeoutS, requests },
      (err, result) => {
        if (err) return reject(err);
        const elapsedS = Math.min((performance.now() - started) / 1000, Math.max(result.duration, spec.durationS));
        if (result.errors > 0) statuses.error = result.errors - result.timeouts;
        if (result.timeouts > 0) statuses.timeout = result.timeouts;
        const failed = result.non2xx + result.errors;
        resolve({
          connections: spec.connections,
          durationS: elapsedS,
          ok: latencies.length,
          failed,
          throughput: latencies.length / elapsedS,
          latencyMs: summarize(latencies),
          batch: batchCount > 0 ? { perBatch: batchCount / inverseSum, perRequest: batchSum / batchCount } : null,
          statuses,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

/** Exact percentiles (nearest rank) of fractional-ms latencies. */
export function summarize(values: number[]): Latency {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, mean: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean, max: sorted[sorted.length - 1]! };
}
