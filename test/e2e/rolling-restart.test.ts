import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MiniBalancer } from './support/balancer.js';
import { sumRequest } from './support/http.js';
import { Fleet } from './support/fleet.js';
import { report, type Outcome } from './support/load.js';
import { FIXTURE_MODELS, sleep, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * Graceful shutdown: every worker and API instance is replaced, one at a time, under load, and
 * no request fails. SIGTERMed workers finish the jobs they hold; SIGTERMed API instances report
 * not-ready for SHUTDOWN_DRAIN_MS (the balancer takes them out) and then finish what they
 * accepted. Every SIGTERMed process exits 0.
 */
describe('rolling restart of workers and API instances under load', () => {
  const prefix = freshPrefix('rolling');
  const fleet = new Fleet();
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: FIXTURE_MODELS };
  const apiEnv = { ...env, SHUTDOWN_DRAIN_MS: '1500' };
  const workerEnv = { ...env, MODEL: 'sum' };
  let workers: ServiceProcess[] = [];
  let apis: ServiceProcess[] = [];
  let balancer: MiniBalancer | undefined;

  before(async () => {
    const started = await Promise.all([
      fleet.worker(workerEnv),
      fleet.worker(workerEnv),
      fleet.api(apiEnv),
      fleet.api(apiEnv),
    ]);
    workers = started.slice(0, 2);
    apis = started.slice(2);
  });

  after(async () => {
    await balancer?.close();
    await fleet.stopAll();
    await deletePrefix(prefix);
  });

  it('loses no request while every process is replaced', () =>
    fleet.explain(async () => {
      const lb = new MiniBalancer(apis);
      balancer = lb;
      await Promise.all(apis.map((a) => lb.waitRouted(a)));

      const outcomes: (Outcome & { instance?: number })[] = [];
      const steps: string[] = [];
      const exits: { name: string; code: number | null; signal: NodeJS.Signals | null }[] = [];
      const t0 = performance.now();
      const at = (): string => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
      let loading = true;
      let sent = 0;
      const lanes = Array.from({ length: 8 }, async () => {
        while (loading) {
          const i = sent++;
          const o = await lb.post('/v2/models/sum/infer', sumRequest([i, 0, 0, 0], [1, 1, 1, 1], `r${i}`));
          outcomes[i] = o;
        }
      });
      const stop = async (p: ServiceProcess, what: string): Promise<void> => {
        steps.push(`${at()} SIGTERM ${what}`);
        const code = await p.stop(60_000);
        exits.push({ name: what, code, signal: p.child.signalCode });
        steps.push(`${at()} ${what} exited ${code ?? p.child.signalCode}`);
      };
      const start = async (what: string, starting: Promise<ServiceProcess>): Promise<ServiceProcess> => {
        steps.push(`${at()} starting ${what}`);
        const p = await starting;
        steps.push(`${at()} ${what} ready`);
        return p;
      };

      try {
        await sleep(1000);
        // Workers and API instances are replaced side by side (two chains), each chain one
        // process at a time: start the new one, wait until it serves, then SIGTERM an old one.
        await Promise.all([
          (async () => {
            await start('worker 3', fleet.worker(workerEnv));
            await stop(workers[0]!, 'worker 1');
            await start('worker 4', fleet.worker(workerEnv));
            await stop(workers[1]!, 'worker 2');
          })(),
          (async () => {
            const api3 = await start('API 3', fleet.api(apiEnv));
            lb.add(api3);
            await lb.waitRouted(api3);
            await stop(apis[0]!, 'API 1');
            const api4 = await start('API 4', fleet.api(apiEnv));
            lb.add(api4);
            await lb.waitRouted(api4);
            await stop(apis[1]!, 'API 2');
          })(),
        ]);
        // Keep the load on a little longer, and for at least 10 s in all.
        await sleep(Math.max(1000, 10_000 - (performance.now() - t0)));
      } finally {
        loading = false;
        await Promise.all(lanes);
      }
      for (const s of steps) console.log(`# ${s}`);
      const counts = report(`rolling restart, concurrency 8, ${at()} of load`, outcomes);
      const perInstance: Record<string, number> = {};
      for (const o of outcomes) perInstance[String(o.instance)] = (perInstance[String(o.instance)] ?? 0) + 1;
      console.log(`# requests per API port: ${JSON.stringify(perInstance)}; retried after ECONNREFUSED: ${lb.retries}`);
      const failed = outcomes.filter((o) => o.status !== 200);
      assert.deepEqual(
        failed.map((o) => `${o.status} ${o.error ?? JSON.stringify(o.body)}`),
        [],
        `all ${outcomes.length} requests succeed (got ${JSON.stringify(counts)})`,
      );
      for (const [i, o] of outcomes.entries()) {
        assert.equal(o.body.id, `r${i}`);
        assert.deepEqual(o.body.outputs.find((t: any) => t.name === 'sum').data, [i + 1, 1, 1, 1]);
      }
      assert.deepEqual(
        exits.map((e) => `${e.name}: ${e.code ?? e.signal}`),
        exits.map((e) => `${e.name}: 0`),
        'every SIGTERMed process exits with code 0',
      );
    }));
});
