import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FAQ_QUESTIONS, Management, scoreFaq } from './support/endpoints.js';
import { report, type Outcome } from './support/load.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { sleep, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * Continuous load through an endpoint while blue's version is switched (the worker hot-swaps)
 * and traffic shifts blue → green and back: not one request may fail.
 */
describe('endpoint changes under load', () => {
  const prefix = freshPrefix('ep-zero');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: REFERENCE_MODELS };
  const endpoint = 'faq';
  const processes: ServiceProcess[] = [];
  let api: ServiceProcess;
  let admin: Management;

  before(async () => {
    api = await startApi(env);
    processes.push(api);
    admin = new Management(api.url);
    await admin.registerFaq('faq', '1');
    await admin.registerFaq('faq', '2');
    await admin.createEndpoint(endpoint);
    await admin.putDeployment(endpoint, 'blue', 'faq', '1');
    await admin.putDeployment(endpoint, 'green', 'faq', '2');
    await admin.setTraffic(endpoint, { blue: 100 });
    processes.push(
      ...(await Promise.all(['blue', 'green'].map((d) => startWorker({ ...env, DEPLOYMENT: `${endpoint}/${d}` })))),
    );
    await admin.waitServing(endpoint, 'blue', ['1']);
    await admin.waitServing(endpoint, 'green', ['2']);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deletePrefix(prefix);
  });

  it('switches versions and shifts traffic without a failed request', async () => {
    const outcomes: (Outcome & { phase: string })[] = [];
    let phase = 'start';
    let changesDone = false;
    const started = Date.now();
    const minMs = 12_000;
    const maxMs = 180_000;
    const lanes = Array.from({ length: 8 }, async (_, lane) => {
      for (let i = 0; ; i++) {
        const elapsed = Date.now() - started;
        if (elapsed > maxMs || (changesDone && elapsed > minMs)) return;
        const sentIn = phase; // the phase the request was routed in
        const o = await scoreFaq(api.url, endpoint, undefined, FAQ_QUESTIONS[(lane + i) % FAQ_QUESTIONS.length]!);
        outcomes.push({ ...o, phase: sentIn });
      }
    });

    const step = async (name: string, change: () => Promise<unknown>, settleMs = 1500) => {
      phase = `during '${name}'`;
      await change();
      phase = name;
      await sleep(settleMs);
    };
    const changes = (async () => {
      try {
        await sleep(1000);
        await step('blue v2', async () => {
          await admin.putDeployment(endpoint, 'blue', 'faq', '2');
          const ms = await admin.waitServing(endpoint, 'blue', ['2']);
          console.log(`# blue switched 1 → 2 in ${ms} ms (under load)`);
        });
        await step('blue 50 green 50', () => admin.setTraffic(endpoint, { blue: 50, green: 50 }));
        await step('green 100', () => admin.setTraffic(endpoint, { green: 100 }));
        await step('back to blue 50 green 50', () => admin.setTraffic(endpoint, { blue: 50, green: 50 }));
        await step('back to blue 100', () => admin.setTraffic(endpoint, { blue: 100 }));
        await step('blue v1', async () => {
          await admin.putDeployment(endpoint, 'blue', 'faq', '1');
          const ms = await admin.waitServing(endpoint, 'blue', ['1']);
          console.log(`# blue switched 2 → 1 in ${ms} ms (under load)`);
        });
      } finally {
        changesDone = true;
      }
    })();
    await Promise.all([changes, ...lanes]);
    assert.ok(Date.now() - started < maxMs, 'the changes should have finished within the load');

    const counts = report('changes under load', outcomes);
    const tally: Record<string, Record<string, number>> = {};
    for (const o of outcomes) {
      const key = o.status === 200 ? `${o.headers!.get('x-deployment')} v${o.body.version}` : `status ${o.status}`;
      (tally[o.phase] ??= {})[key] = (tally[o.phase]![key] ?? 0) + 1;
    }
    for (const [p, t] of Object.entries(tally)) {
      console.log(
        `# phase '${p}': ${Object.entries(t)
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ')}`,
      );
    }
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.equal(
      failed.length,
      0,
      `failed: ${JSON.stringify(failed.slice(0, 5).map((o) => ({ s: o.status, e: o.error, b: o.body })))}`,
    );
    assert.equal(counts[200], outcomes.length);
    // Phases are labelled when a request is sent; a change is 'during' until it is complete.
    // Before any change only blue answers (v1, or v2 for a request still queued at the swap).
    assert.deepEqual(
      Object.keys(tally.start ?? {}).filter((k) => !k.startsWith('blue')),
      [],
    );
    assert.deepEqual(Object.keys(tally['blue v2'] ?? {}), ['blue v2']);
    assert.deepEqual(
      Object.keys(tally['green 100'] ?? {}).filter((k) => !k.startsWith('green')),
      [],
    );
    const all = Object.values(tally).flatMap((t) => Object.keys(t));
    for (const seen of ['blue v1', 'blue v2', 'green v2']) assert.ok(all.includes(seen), `${seen} never answered`);
  });
});
