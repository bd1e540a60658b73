import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sumRequest } from './support/http.js';
import { fmt, percentile, report, send, type Outcome } from './support/load.js';
import { removeRepo, tempRepo } from './support/model-repo.js';
import { Fleet } from './support/fleet.js';
import { FIXTURE_MODELS, type ServiceProcess } from './support/processes.js';
import {
  eventually,
  holdHeartbeat,
  queueKey,
  sampleDepth,
  served,
  testRedis,
  total,
  unblockLaneRead,
  waitingJobs,
} from './support/queues.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * Admission control: a model's waiting jobs are bounded (its `queue_policy.max_queue_size`, or
 * by default four rounds of its live workers' concurrency); requests past the bound, or past
 * an instance's MAX_INFLIGHT_REQUESTS, are refused at once with 429 and Retry-After and never
 * enqueued. Priority: default (0) jobs are served before jobs with a positive priority.
 *
 * Workers are SIGSTOPped so jobs pile up; meanwhile the test keeps their heartbeat fresh
 * (holdHeartbeat), so the API treats them as slow rather than gone.
 */
describe('admission control and priority', () => {
  const prefix = freshPrefix('admit');
  const redis = testRedis();
  const fleet = new Fleet();
  let repo: string;
  let env: Record<string, string>;
  let api: ServiceProcess;
  let smallApi: ServiceProcess;
  const workers: Record<string, ServiceProcess> = {};
  const BOUND = 20;
  const DEFAULT_CONCURRENCY = 20; // bound by default: max(64, 4 × 20) = 80
  /**
   * The API's depth is an estimate (a 100 ms sample of Redis plus its own adds, confirmed or
   * pending), so it may be off by a few jobs either way in a burst.
   */
  const SLACK = 8;

  before(async () => {
    const sum = join(FIXTURE_MODELS, 'sum');
    repo = await tempRepo([
      { name: 'bounded', from: sum, patch: { queue_policy: { max_queue_size: BOUND, default_timeout_ms: 30_000 } } },
      { name: 'defaulted', from: sum, patch: { queue_policy: { default_timeout_ms: 30_000 } } },
      // Does not batch: with concurrency 1 the worker runs one job at a time, in queue order.
      {
        name: 'serial',
        from: join(FIXTURE_MODELS, 'nobatch'),
        patch: { queue_policy: { default_timeout_ms: 30_000 } },
      },
    ]);
    env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: repo };
    const [b, d, s, a, small] = await Promise.all([
      fleet.worker({ ...env, MODEL: 'bounded' }),
      fleet.worker({ ...env, MODEL: 'defaulted', WORKER_CONCURRENCY: String(DEFAULT_CONCURRENCY) }),
      fleet.worker({ ...env, MODEL: 'serial', WORKER_CONCURRENCY: '1' }),
      fleet.api(env),
      fleet.api({ ...env, MAX_INFLIGHT_REQUESTS: '5' }),
    ]);
    Object.assign(workers, { bounded: b, defaulted: d, serial: s });
    api = a;
    smallApi = small;
  });

  after(async () => {
    await fleet.stopAll();
    redis.disconnect();
    await deletePrefix(prefix);
    await removeRepo(repo);
  });

  /**
   * Holds a model's worker stopped, sends `count` requests at once, and waits until every one is
   * either answered (429) or waiting in the queue. Then resumes the worker and collects all.
   */
  async function burstAgainstStoppedWorker(
    model: string,
    count: number,
    target: ServiceProcess = api,
  ): Promise<{ outcomes: Outcome[]; maxWaiting: number; refusedBeforeResume: number }> {
    const worker = workers[model]!;
    const ok = await send(`${target.url}/v2/models/${model}/infer`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1]));
    assert.equal(ok.status, 200, 'warm-up request');
    const before = await served(worker);
    worker.signal('SIGSTOP');
    const release = holdHeartbeat(redis, prefix, model, worker.child.pid!);
    const depth = sampleDepth(redis, prefix, model);
    let settled = 0;
    let outcomes: Outcome[];
    let refusedBeforeResume: number;
    let maxWaiting: number;
    try {
      await unblockLaneRead(redis, prefix, model, worker.child.pid!);
      const pending = Array.from({ length: count }, (_, i) =>
        send(`${target.url}/v2/models/${model}/infer`, sumRequest([i, i, i, i], [1, 2, 3, 4]), {
          timeoutMs: 60_000,
        }).then((o) => {
          settled++;
          return o;
        }),
      );
      // Every request is either refused already or sits in the queue.
      await eventually(
        'every request answered or queued',
        async () => settled + (await waitingJobs(redis, prefix, model)) === count,
        30_000,
      );
      refusedBeforeResume = settled;
      // A further wave against the full queue is refused entirely.
      const extra = await Promise.all(
        Array.from({ length: 10 }, () =>
          send(`${target.url}/v2/models/${model}/infer`, sumRequest([0, 0, 0, 0], [0, 0, 0, 0])),
        ),
      );
      assert.deepEqual(
        extra.map((o) => o.status),
        Array(10).fill(429),
        'a full queue refuses every new request',
      );
      worker.signal('SIGCONT');
      outcomes = await Promise.all(pending);
    } finally {
      worker.signal('SIGCONT');
      await release();
      // Also on a failed assertion: the sampler's timer would keep the test file from exiting.
      maxWaiting = await depth.stop();
    }
    // The worker computes exactly the admitted jobs: nothing refused was enqueued.
    const admitted = outcomes.filter((o) => o.status !== 429).length;
    await eventually('the worker has finished the admitted jobs', async () => {
      return total(await served(worker)) - total(before) >= admitted;
    });
    await new Promise((r) => setTimeout(r, 300));
    const after = await served(worker);
    assert.equal(total(after) - total(before), admitted, 'the worker saw exactly the admitted jobs');
    assert.equal(after.succeeded - before.succeeded, admitted);
    return { outcomes, maxWaiting, refusedBeforeResume };
  }

  function check429(o: Outcome, pattern: RegExp): void {
    assert.equal(o.status, 429);
    assert.equal(o.headers?.get('retry-after'), '1');
    assert.equal(typeof o.body?.error, 'string', JSON.stringify(o.body));
    assert.match(o.body.error, pattern);
  }

  it('refuses requests past max_queue_size with 429 and Retry-After, never enqueueing them', async () => {
    const sent = 100;
    const { outcomes, maxWaiting } = await burstAgainstStoppedWorker('bounded', sent);
    const counts = report(`max_queue_size ${BOUND}, worker stopped, burst of ${sent}`, outcomes);
    const refused = outcomes.filter((o) => o.status === 429);
    const admitted = outcomes.filter((o) => o.status === 200);
    console.log(
      `# admitted ${admitted.length} (bound ${BOUND}), largest wait list seen in Redis ${maxWaiting}; ` +
        `429 latency ms p50 ${fmt(
          percentile(
            refused.map((o) => o.ms),
            50,
          ),
        )}, max ${fmt(Math.max(...refused.map((o) => o.ms)))}`,
    );
    assert.equal((counts[200] ?? 0) + (counts[429] ?? 0), sent, 'only 200 and 429, lost 0');
    for (const o of refused) check429(o, /overloaded.*limit 20/);
    assert.ok(admitted.length >= BOUND - SLACK, `about the bound is admitted (${admitted.length})`);
    assert.ok(maxWaiting <= BOUND + SLACK, `waiting jobs ${maxWaiting} stay within ${BOUND} + ${SLACK}`);
  });

  it('bounds a model without max_queue_size at max(64, 4 × live workers’ concurrency)', async () => {
    const bound = Math.max(64, 4 * DEFAULT_CONCURRENCY);
    const sent = 200;
    const { outcomes, maxWaiting } = await burstAgainstStoppedWorker('defaulted', sent);
    const counts = report(`default bound ${bound}, worker stopped, burst of ${sent}`, outcomes);
    const admitted = counts[200] ?? 0;
    console.log(`# admitted ${admitted} (bound ${bound}), largest wait list seen in Redis ${maxWaiting}`);
    assert.equal(admitted + (counts[429] ?? 0), sent, 'only 200 and 429, lost 0');
    for (const o of outcomes.filter((o) => o.status === 429)) check429(o, new RegExp(`limit ${bound}\\)`));
    assert.ok(admitted >= bound - SLACK, `about the bound is admitted (${admitted})`);
    assert.ok(maxWaiting <= bound + SLACK, `waiting jobs ${maxWaiting} stay within ${bound} + ${SLACK}`);
  });

  it('refuses requests past MAX_INFLIGHT_REQUESTS of an instance with 429', async () => {
    const sent = 30;
    const { outcomes } = await burstAgainstStoppedWorker('bounded', sent, smallApi);
    const counts = report(`MAX_INFLIGHT_REQUESTS 5, worker stopped, burst of ${sent}`, outcomes);
    assert.equal(counts[200], 5, 'exactly the in-flight limit is admitted');
    assert.equal(counts[429], sent - 5);
    for (const o of outcomes.filter((o) => o.status === 429)) check429(o, /limit of 5 requests in flight/);
  });

  it('serves a default-priority job before jobs with priority 5 that waited longer', async () => {
    const worker = workers.serial!;
    const url = `${api.url}/v2/models/serial/infer`;
    const body = (id: string, parameters?: object): object => ({
      id,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2, 3] }],
      ...(parameters ? { parameters } : {}),
    });
    assert.equal((await send(url, body('warm'))).status, 200);
    const n = 10;
    worker.signal('SIGSTOP');
    const release = holdHeartbeat(redis, prefix, 'serial', worker.child.pid!);
    const arrived: string[] = [];
    let outcomes: Outcome[];
    try {
      const track = (id: string, p: Promise<Outcome>): Promise<Outcome> =>
        p.then((o) => {
          arrived.push(id);
          return o;
        });
      // Half ask for priority in the body, half with the x-priority header.
      const low = Array.from({ length: n }, (_, i) =>
        track(
          `p${i}`,
          i % 2 === 0
            ? send(url, body(`p${i}`, { priority: 5 }), { timeoutMs: 60_000 })
            : send(url, body(`p${i}`), { headers: { 'x-priority': '5' }, timeoutMs: 60_000 }),
        ),
      );
      await eventually(
        `${n} priority-5 requests waiting, none in the wait list`,
        async () =>
          (await waitingJobs(redis, prefix, 'serial')) === n &&
          (await redis.llen(queueKey(prefix, 'serial', 'wait'))) === 0,
      );
      const first = track('default', send(url, body('default'), { timeoutMs: 60_000 }));
      await eventually(
        'the default job in the wait list',
        async () => (await redis.llen(queueKey(prefix, 'serial', 'wait'))) === 1,
      );
      worker.signal('SIGCONT');
      outcomes = await Promise.all([first, ...low]);
    } finally {
      worker.signal('SIGCONT');
      await release();
    }
    report(`priority: ${n} jobs at priority 5, then 1 default, worker concurrency 1`, outcomes);
    assert.ok(
      outcomes.every((o) => o.status === 200),
      JSON.stringify(outcomes.map((o) => o.status)),
    );
    // The worker holds one job at a time and publishes a job's replies before it takes the
    // next, so replies reach the client in the order the worker served them.
    console.log(`# arrival order (client): ${arrived.join(' ')}`);
    assert.equal(arrived.length, n + 1, 'every request answered once');
    assert.equal(arrived[0], 'default', 'the default-priority request was served before every priority-5 request');
  });
});
