import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sumRequest } from './support/http.js';
import { Fleet } from './support/fleet.js';
import { fmt, report, runBounded, send, type Outcome } from './support/load.js';
import { removeRepo, tempRepo } from './support/model-repo.js';
import { FIXTURE_MODELS, sleep, type ServiceProcess } from './support/processes.js';
import { eventually, heldJobs, laneHeldBy, served, takenBackJobs, testRedis } from './support/queues.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * A worker killed mid-load (SIGKILL: no goodbye, jobs in its hands) loses no request: its jobs'
 * locks (BullMQ) and its liveness key (direct lane) expire after LOCK_DURATION_MS, and the
 * survivor's check (STALLED_INTERVAL_MS) moves them back to the queue, where the survivor
 * runs them well within the 30 s deadline.
 */
describe('worker crash under load', () => {
  const prefix = freshPrefix('crash');
  const fleet = new Fleet();
  const redis = testRedis();
  let repo: string;
  let api: ServiceProcess;
  let victim: ServiceProcess;
  let survivor: ServiceProcess;
  /** The survivor holds at most this many BullMQ jobs and as many lane envelopes. */
  const SURVIVOR_CONCURRENCY = 1;
  /** More held jobs than this mean the victim holds some. */
  const SURVIVOR_HOLDS_AT_MOST = 2 * SURVIVOR_CONCURRENCY;

  before(async () => {
    repo = await tempRepo([
      { name: 'durable', from: join(FIXTURE_MODELS, 'sum'), patch: { queue_policy: { default_timeout_ms: 30_000 } } },
    ]);
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: repo };
    const workerEnv = { ...env, MODEL: 'durable', LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };
    [victim, survivor, api] = await Promise.all([
      fleet.worker(workerEnv),
      fleet.worker({ ...workerEnv, WORKER_CONCURRENCY: String(SURVIVOR_CONCURRENCY) }),
      fleet.api(env),
    ]);
  });

  after(async () => {
    await fleet.stopAll();
    redis.disconnect();
    await deletePrefix(prefix);
    await removeRepo(repo);
  });

  it('answers every request when one of two workers is SIGKILLed mid-load', () =>
    fleet.explain(async () => {
      const url = `${api.url}/v2/models/durable/infer`;
      const total = 600;
      const concurrency = 16;
      const killAfter = 200;
      let done = 0;
      let killedAt = 0;
      let heldAtKill = 0;
      let kill: Promise<void> | undefined;
      // SIGKILL the victim at a moment it certainly holds jobs. Freeze it first (SIGSTOP) and
      // let the commands it already wrote reach Redis: a frozen worker can't finish a job, so
      // if its own held list has an envelope, or more jobs stay active than the survivor can
      // hold, the victim holds them. (An idle worker holds one envelope at a time: it finishes
      // an envelope that drained the lane before reading again.)
      const victimPid = victim.child.pid!;
      const killWhileHolding = async (): Promise<void> => {
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          victim.signal('SIGSTOP');
          await sleep(100);
          const active = await heldJobs(redis, prefix, 'durable');
          if (active > SURVIVOR_HOLDS_AT_MOST || (await laneHeldBy(redis, prefix, 'durable', victimPid)) > 0) {
            victim.signal('SIGKILL');
            killedAt = performance.now();
            heldAtKill = active;
            return;
          }
          victim.signal('SIGCONT');
          await sleep(20);
        }
      };
      const outcomes = await runBounded(total, concurrency, async (i): Promise<Outcome & { sentAt: number }> => {
        const sentAt = performance.now();
        const o = await send(url, sumRequest([i, 1, 2, 3], [1, 1, 1, 1], `r${i}`), { timeoutMs: 60_000 });
        if (++done === killAfter) kill = killWhileHolding();
        return { ...o, sentAt };
      });
      await kill;
      assert.ok(killedAt > 0, 'the victim was killed while it held jobs');
      assert.equal(await victim.exited, null, 'the victim died by the signal');
      const counts = report(
        `worker crash: ${total} requests at concurrency ${concurrency}, SIGKILL after ${killAfter}`,
        outcomes,
      );
      // Requests that were in flight when the worker died: their jobs waited for the lock to expire.
      const inFlightAtKill = outcomes.filter((o) => o.sentAt <= killedAt && o.sentAt + o.ms > killedAt);
      console.log(
        `# in flight at the kill: ${inFlightAtKill.length} (active jobs ${heldAtKill}, the survivor holds at most ${SURVIVOR_HOLDS_AT_MOST}), their max latency ${fmt(Math.max(0, ...inFlightAtKill.map((o) => o.ms)))} ms`,
      );
      assert.equal(counts[200], total, `all ${total} succeed (got ${JSON.stringify(counts)})`);
      for (const [i, o] of outcomes.entries()) {
        assert.equal(o.body.id, `r${i}`);
        assert.deepEqual(o.body.outputs.find((t: any) => t.name === 'sum').data, [i + 1, 2, 3, 4]);
      }
      // The victim may have been stopped after publishing a job's replies but before
      // completing it: then no caller waited for that job, and the load can end before its
      // lock expires.
      const stalledJobs = (): Promise<number> => takenBackJobs(redis, prefix, 'durable');
      await eventually('the killed worker’s jobs are taken back', async () => (await stalledJobs()) > 0, 20_000);
      const stalled = await stalledJobs();
      const s = await served(survivor);
      console.log(
        `# survivor: succeeded ${s.succeeded}, expired ${s.expired}, failed ${s.failed}; ` +
          `jobs taken back from the killed worker (stalled): ${stalled}`,
      );
      assert.equal(s.failed, 0);
      assert.ok(stalled > 0, 'the killed worker held jobs, and they were run again');
    }));
});
