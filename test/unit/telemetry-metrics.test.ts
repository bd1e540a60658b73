import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { ScoringJob } from '../../libs/contracts/src/index.js';
import { DynamicBatcher, type BatchExecutionInfo } from '../../libs/runtime/src/index.js';
import {
  ApiMetrics,
  createRegistry,
  isProbe,
  chooseRequestId,
  ServingTelemetry,
  Tracing,
  tracingSettings,
} from '../../libs/telemetry/src/index.js';

/** Sum of the samples of `name` whose labels include `labels`. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_(count|sum|bucket)$/, ''));
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, unknown>; metricName?: string }[];
  return values
    .filter((v) => (v.metricName ?? metric?.name) === name)
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

const job = (id: string): ScoringJob => ({
  id,
  model: 'sum',
  kind: 'tensors',
  replyTo: 'r',
  deadline: Date.now() + 1000,
  acceptedAt: Date.now() - 5,
});

describe('telemetry metrics', () => {
  it('counts jobs by outcome, stage times, batches against items', async () => {
    const registry = new Registry();
    const telemetry = new ServingTelemetry({
      registry,
      tracing: Tracing.get(),
      served: () => [{ deployment: 'sum', model: 'sum', versions: ['2', '1'], device: 'cpu', ready: true }],
    });
    const timings = { queue: 2, preprocess: 0.5, inference: 1, batchSize: 2 };
    for (const id of ['a', 'b']) {
      telemetry.jobDone(job(id), { id, ok: true, model: 'sum', version: '2', timings }, 'succeeded', { receivedAt: 0 });
    }
    telemetry.jobDone(job('c'), { id: 'c', ok: false, status: 504, error: 'late' }, 'expired', { receivedAt: 0 });
    telemetry.batchExecuted({
      model: 'sum',
      version: '2',
      jobs: [job('a'), job('b')],
      rows: 2,
      startedAt: 0,
      durationMs: 1,
      ok: true,
    });
    telemetry.jobPickedUp(job('d'), 2);
    const labels = { deployment: 'sum', model: 'sum' };
    assert.equal(
      await sample(registry, 'switchyard_worker_jobs_total', { ...labels, outcome: 'succeeded', version: '2' }),
      2,
    );
    assert.equal(await sample(registry, 'switchyard_worker_jobs_total', { outcome: 'expired' }), 1);
    assert.equal(await sample(registry, 'switchyard_inference_seconds_count', labels), 2);
    assert.equal(await sample(registry, 'switchyard_batch_size_count', labels), 1);
    assert.equal(await sample(registry, 'switchyard_batch_size_sum', labels), 2);
    assert.equal(await sample(registry, 'switchyard_inference_count_total', labels), 2);
    assert.equal(await sample(registry, 'switchyard_execution_count_total', labels), 1);
    assert.equal(await sample(registry, 'switchyard_jobs_retried_total', labels), 1);
    assert.equal(await sample(registry, 'switchyard_worker_info', { version: '1', device: 'cpu' }), 1);
    assert.equal(telemetry.snapshot('sum').window.batches, 1);
    assert.match(
      await registry.metrics(),
      /switchyard_queue_wait_seconds_bucket\{le="0.0025",endpoint="",deployment="sum"/,
    );
  });

  it('labels API requests and counts 429s as refused', async () => {
    const registry = new Registry();
    const metrics = new ApiMetrics(registry, {
      queueDepths: async () => [{ deployment: 'sum', model: 'sum', pending: 7 }],
      inFlight: () => 3,
    });
    const labels = { endpoint: '', deployment: 'sum', model: 'sum', version: '2' };
    metrics.observeRequest(labels, 200, 0.01);
    metrics.observeRequest(labels, 429, 0.001);
    assert.equal(await sample(registry, 'switchyard_requests_total', { status: '200' }), 1);
    assert.equal(await sample(registry, 'switchyard_request_duration_seconds_count', labels), 2);
    assert.equal(await sample(registry, 'switchyard_requests_refused_total', { model: 'sum' }), 1);
    assert.equal(await sample(registry, 'switchyard_queue_pending_jobs', { model: 'sum' }), 7);
    assert.equal(await sample(registry, 'switchyard_api_inflight_requests'), 3);
  });

  it('reports every run of the batcher: items per execution, failures re-run alone', async () => {
    const runs: BatchExecutionInfo[] = [];
    const batcher = new DynamicBatcher<number, number>(
      { maxBatchSize: 4, maxQueueDelayMs: 5, onExecuted: (e) => runs.push(e) },
      async (xs) => {
        if (xs.includes(13)) throw new Error('unlucky');
        return xs.map((x) => x * 2);
      },
    );
    const info = (tag: string) => ({ rows: 1, signature: 's', deadline: Date.now() + 1000, tag });
    await Promise.all([1, 2, 3].map((x) => batcher.submit(x, info(`t${x}`))));
    assert.deepEqual(
      runs.map((r) => [r.tags, r.ok]),
      [[['t1', 't2', 't3'], true]],
    );
    runs.length = 0;
    await Promise.allSettled([5, 13].map((x) => batcher.submit(x, info(`t${x}`))));
    assert.deepEqual(
      runs.map((r) => [r.tags.length, r.ok]),
      [
        [2, false],
        [1, true],
        [1, false],
      ],
    );
  });
});

describe('process metrics', () => {
  it("has Node's event-loop lag, and a blocked loop shows in it", async () => {
    const registry = createRegistry();
    await new Promise((r) => setTimeout(r, 250));
    const until = Date.now() + 400;
    while (Date.now() < until); // the loop is blocked for 400 ms
    await new Promise((r) => setTimeout(r, 250));
    const max = await sample(registry, 'nodejs_eventloop_lag_max_seconds');
    assert.ok(max >= 0.25, `lag max ${max} s after a 400 ms block`);
    registry.clear();
  });
});

describe('telemetry settings', () => {
  it('turns tracing on only when an exporter or endpoint is set', () => {
    assert.equal(tracingSettings({}).enabled, false);
    assert.equal(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled, true);
    assert.equal(tracingSettings({ OTEL_TRACES_EXPORTER: 'console' }).exporter, 'console');
    assert.equal(
      tracingSettings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }).enabled,
      false,
    );
    assert.equal(tracingSettings({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).enabled, false);
    assert.equal(tracingSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol, 'http/json');
    const grpc = tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' });
    assert.equal(grpc.protocol, 'http/protobuf');
    assert.equal(grpc.warnings.length, 1);
    assert.equal(Tracing.get().enabled, false);
  });

  it('takes a sane x-request-id, else makes one', () => {
    assert.equal(chooseRequestId('abc-123'), 'abc-123');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(200), 'evil\nline', 42]) {
      assert.match(chooseRequestId(bad), /^[0-9a-f-]{36}$/);
    }
    assert.ok(isProbe('/v2/health/ready') && isProbe('/health/live') && isProbe('/metrics') && isProbe('/metrics?x=1'));
    assert.ok(!isProbe('/v2/models/sum/ready') && !isProbe('/metricsfoo') && !isProbe('/v2/models/sum/infer'));
  });
});
