import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, postJson, sumRequest } from './support/http.js';
import { hasMetric, metricValue, scrape } from './support/metrics.js';
import { removeRepo, tempRepo } from './support/model-repo.js';
import { OtlpReceiver } from './support/otlp-receiver.js';
import { freePort, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { eventually } from './support/queues.js';
import { deletePrefix, freshPrefix, REDIS_URL } from './support/redis.js';

const SECRETS = {
  authorization: 'Bearer supersecretkey123456',
  'x-api-key': 'apikeysecret987654',
  cookie: 'session=cookiesecret555',
};
const SECRET_VALUES = ['supersecretkey123456', 'apikeysecret987654', 'cookiesecret555'];

/** An API and a worker on Redis with tracing to a local OTLP receiver and payload capture on. */
describe('observability: metrics, traces, logs, payload capture, status', () => {
  const prefix = freshPrefix('obs');
  let receiver: OtlpReceiver;
  let repo: string;
  let captureDir: string;
  let env: Record<string, string>;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  const extra: ServiceProcess[] = [];
  const infer = (body: unknown, headers: Record<string, string> = {}) =>
    postJson(`${api.url}/v2/models/sum/infer`, body, headers);

  before(async () => {
    receiver = await OtlpReceiver.start();
    captureDir = await mkdtemp(join(tmpdir(), 'sy-e2e-capture-'));
    const capture = { enabled: true, sample_rate: 1, dir: captureDir, max_file_bytes: 1024, max_files: 3 };
    repo = await tempRepo([{ name: 'sum', patch: { capture } }]);
    env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: repo, LOG_LEVEL: 'info' };
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    worker = await startWorker({ ...env, ...otel, MODEL: 'sum' });
    api = await startApi({ ...env, ...otel });
  });

  after(async () => {
    await Promise.all([api?.stop(), worker?.stop(), ...extra.map((p) => p.stop())]);
    await Promise.all([
      deletePrefix(prefix),
      removeRepo(repo),
      rm(captureDir, { recursive: true, force: true }),
      receiver?.close(),
    ]);
  });

  it('counts requests, jobs, batches and executions exactly, and exposes queue and worker gauges', async () => {
    const N = 6;
    const [apiBefore, workerBefore] = await Promise.all([scrape(api.url), scrape(worker.url)]);
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) => infer(sumRequest([i, 1, 1, 1], [1, 1, 1, 1]))),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(N).fill(200),
    );
    assert.equal((await infer(sumRequest([1, 2, 3, 4], [1, 2, 3, 4]), {})).status, 200);
    const api200 = { model: 'sum', deployment: 'sum', status: '200' };
    const delta = (before: string, now: string, name: string, labels: Record<string, string>) =>
      metricValue(now, name, labels) - metricValue(before, name, labels);
    await eventually(
      'the API counts every request',
      async () => delta(apiBefore, await scrape(api.url), 'switchyard_requests_total', api200) === N + 1,
    );
    const [apiNow, workerNow] = await Promise.all([scrape(api.url), scrape(worker.url)]);
    const sum = { model: 'sum', deployment: 'sum' };
    assert.equal(
      delta(apiBefore, apiNow, 'switchyard_request_duration_seconds_count', { ...api200, version: '2' }),
      N + 1,
    );
    assert.equal(
      delta(workerBefore, workerNow, 'switchyard_worker_jobs_total', { ...sum, outcome: 'succeeded' }),
      N + 1,
    );
    assert.equal(delta(workerBefore, workerNow, 'switchyard_queue_wait_seconds_count', sum), N + 1);
    assert.equal(delta(workerBefore, workerNow, 'switchyard_inference_count_total', sum), N + 1);
    assert.equal(delta(workerBefore, workerNow, 'switchyard_batch_size_sum', sum), N + 1);
    const batches = delta(workerBefore, workerNow, 'switchyard_batch_size_count', sum);
    assert.ok(batches >= 2 && batches <= N + 1, `batches: ${batches}`);
    assert.equal(delta(workerBefore, workerNow, 'switchyard_execution_count_total', sum), batches);
    assert.ok(
      hasMetric(apiNow, 'switchyard_queue_pending_jobs') && hasMetric(workerNow, 'switchyard_queue_pending_jobs'),
    );
    assert.ok(hasMetric(workerNow, 'switchyard_queue_active_jobs'));
    assert.equal(metricValue(workerNow, 'switchyard_worker_info', { ...sum, version: '2', device: 'cpu' }), 1);

    const unknown = await postJson(`${api.url}/v2/models/nope/infer`, sumRequest([1, 1, 1, 1], [1, 1, 1, 1]));
    assert.equal(unknown.status, 404);
    await eventually(
      '404s are counted without the made-up model name',
      async () => metricValue(await scrape(api.url), 'switchyard_requests_total', { model: '', status: '404' }) >= 1,
    );
    assert.doesNotMatch(await scrape(api.url), /model="nope"/);
  });

  it('traces one request across the API and the worker in one trace with proper parents', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await infer(sumRequest([1, 2, 3, 4], [4, 3, 2, 1]), { traceparent: `00-${traceId}-${callerSpan}-01` });
    assert.equal(res.status, 200);
    const wanted = [
      'POST /v2/models/:model/infer',
      'enqueue sum',
      'queue wait',
      'process sum',
      'preprocess',
      'batch wait',
      'inference',
      'reply publish',
    ];
    await eventually('spans of the API and the worker', async () =>
      wanted.every((n) => receiver.trace(traceId).some((s) => s.name === n)),
    );
    const span = (name: string) => receiver.trace(traceId).find((s) => s.name === name)!;
    const http = span('POST /v2/models/:model/infer');
    const enqueue = span('enqueue sum');
    const consume = span('process sum');
    assert.equal(http.service, 'switchyard-api');
    assert.equal(http.parentSpanId, callerSpan);
    assert.equal(enqueue.service, 'switchyard-api');
    assert.equal(enqueue.parentSpanId, http.spanId);
    assert.equal(consume.service, 'switchyard-worker');
    assert.equal(consume.parentSpanId, enqueue.spanId);
    assert.equal(span('queue wait').parentSpanId, enqueue.spanId);
    for (const child of ['preprocess', 'batch wait', 'inference', 'reply publish']) {
      assert.equal(span(child).parentSpanId, consume.spanId, child);
      assert.equal(span(child).service, 'switchyard-worker', child);
    }
    assert.equal(consume.attributes['switchyard.version'], '2');
    await eventually('the request log line carries the trace id', async () =>
      api.logs.includes(`"trace_id":"${traceId}"`),
    );
    await eventually('a batch span linking the request', async () =>
      receiver.spans.some(
        (s) => s.name === 'batch sum' && s.links.some((l) => l.traceId === traceId && l.spanId === enqueue.spanId),
      ),
    );
  });

  it('logs JSON lines with the request id, and never keys, cookies, bodies or probes', async () => {
    const res = await infer(
      { ...(sumRequest([1, 1, 1, 1], [2, 2, 2, 2]) as object), id: 'bodymarker-777' },
      { ...SECRETS, 'x-request-id': 'req-obs-42' },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-obs-42');
    const generated = await infer(sumRequest([1, 1, 1, 1], [2, 2, 2, 2]));
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    await getJson(`${api.url}/v2/health/ready`);
    await eventually('the request is logged', async () => api.logs.includes('req-obs-42'));
    const lines = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
    const completed = lines(api.logs).find((l) => l.request_id === 'req-obs-42' && l.res);
    assert.equal(completed?.res.statusCode, 200);
    assert.equal(completed?.req.url, '/v2/models/sum/infer');
    assert.equal(completed?.req.headers, undefined);
    for (const secret of [...SECRET_VALUES, 'bodymarker-777']) {
      assert.ok(!api.logs.includes(secret), `API logs contain ${secret}`);
      assert.ok(!worker.logs.includes(secret), `worker logs contain ${secret}`);
    }
    assert.ok(!lines(api.logs).some((l) => /health|metrics/.test(String(l.req?.url))), 'probes are not logged');
    assert.ok(lines(worker.logs).some((l) => l.service === 'switchyard-worker' && /consuming queue/.test(l.msg)));
  });

  it('captures sampled payloads as rotated JSONL, without headers or keys', async () => {
    const res = await infer({ ...(sumRequest([9, 9, 9, 9], [1, 1, 1, 1]) as object), id: 'capture-probe-1' }, SECRETS);
    assert.equal(res.status, 200);
    const read = async () => {
      const files = (await readdir(captureDir)).filter((f) => f.endsWith('.jsonl')).sort();
      const texts = await Promise.all(files.map((f) => readFile(join(captureDir, f), 'utf8')));
      return { files, texts };
    };
    await eventually('the last request is captured', async () =>
      (await read()).texts.join('').includes('capture-probe-1'),
    );
    const { files, texts } = await read();
    assert.equal(files.length, 3, `max_files keeps 3 files: ${files.join(', ')}`);
    for (const text of texts) {
      for (const line of text.trim().split('\n')) {
        const record = JSON.parse(line) as Record<string, any>;
        assert.equal(record.model, 'sum');
        assert.equal(record.inputs.length, 2);
        assert.ok(Array.isArray(record.outputs) && record.version);
      }
      for (const forbidden of [...SECRET_VALUES, 'Bearer', 'authorization', 'x-api-key', 'cookie', 'replyTo']) {
        assert.ok(!text.includes(forbidden), `capture contains ${forbidden}`);
      }
    }
  });

  it('with METRICS_PORT, serves /metrics on that port only, with the requests served on PORT', async () => {
    const metricsPort = await freePort();
    const split = await startApi({ ...env, METRICS_PORT: String(metricsPort) });
    extra.push(split);
    const metricsUrl = `http://127.0.0.1:${metricsPort}`;
    assert.equal((await fetch(`${split.url}/metrics`)).status, 404, '/metrics is gone from PORT');
    assert.equal(
      (await postJson(`${split.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [1, 2, 3, 4]))).status,
      200,
    );
    const text = await scrape(metricsUrl);
    assert.equal(metricValue(text, 'switchyard_requests_total', { model: 'sum', status: '200' }), 1);
    const head = await fetch(`${metricsUrl}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type') ?? '', /text\/plain/);
    const post = await fetch(`${metricsUrl}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.match(((await post.json()) as { error: string }).error, /POST not allowed/);
    const other = await fetch(`${metricsUrl}/v2/models/sum/infer`, { method: 'POST' });
    assert.equal(other.status, 404, 'the metrics port serves nothing else');
    assert.match(((await other.json()) as { error: string }).error, /metrics are at \/metrics/);
  });

  it('serves the status page and the queue board behind the admin key', async () => {
    const key = 'admin-key-for-observability-test';
    const admin = await startApi({ ...env, AUTH: 'on', ADMIN_API_KEY: key });
    extra.push(admin);
    const auth = { headers: { authorization: `Bearer ${key}` } };
    for (const path of ['/admin/status.json', '/admin/status', '/admin/queues']) {
      assert.equal((await fetch(admin.url + path)).status, 401, path);
    }
    let status: any;
    await eventually('heartbeat stats reach the status page', async () => {
      const report = (await (await fetch(`${admin.url}/admin/status.json`, auth)).json()) as any;
      status = report.queues.find((q: any) => q.queue === 'sum');
      return status?.throughput_rps > 0;
    });
    assert.equal(status.workers, 1);
    assert.deepEqual(status.versions, ['2', '1']);
    assert.ok(status.latency_ms.p50 > 0 && status.latency_ms.p99 >= status.latency_ms.p50);
    assert.ok(status.mean_batch_size >= 1);
    assert.equal(status.worker_details.length, 1);
    const page = await fetch(`${admin.url}/admin/status`, auth);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<td>sum<\/td>/);
    const board = await fetch(`${admin.url}/admin/queues`, auth);
    assert.equal(board.status, 200);
    const queues = await fetch(`${admin.url}/admin/queues/api/queues`, auth);
    assert.equal(queues.status, 200);
    assert.match(await queues.text(), /"name":"sum"/);
  });
});
