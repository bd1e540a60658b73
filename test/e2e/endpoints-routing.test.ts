import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { byDeployment, FAQ_QUESTIONS, Management, scoreFaq, servedBy } from './support/endpoints.js';
import { report, runBounded, send, statusCounts } from './support/load.js';
import { getJson } from './support/http.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { sleep, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * An endpoint with two deployments (blue: faq v1, green: faq v2), one worker each: the traffic
 * weights split requests, `x-deployment` pins one (never mirrored), and a mirror copies a share
 * to green whose answers never reach the caller.
 */
describe('endpoint routing: traffic split, pinning, mirroring', () => {
  const prefix = freshPrefix('ep-routing');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: REFERENCE_MODELS };
  const endpoint = 'faq';
  const processes: ServiceProcess[] = [];
  let api: ServiceProcess;
  let admin: Management;
  const workers: Record<string, ServiceProcess> = {};

  before(async () => {
    api = await startApi(env);
    processes.push(api);
    admin = new Management(api.url);
    await admin.registerFaq('faq', '1');
    await admin.registerFaq('faq', '2');
    await admin.createEndpoint(endpoint);
    await admin.putDeployment(endpoint, 'blue', 'faq', '1');
    await admin.putDeployment(endpoint, 'green', 'faq', '2');
    const [blue, green] = await Promise.all(
      ['blue', 'green'].map((d) => startWorker({ ...env, DEPLOYMENT: `${endpoint}/${d}` }, {})),
    );
    workers.blue = blue!;
    workers.green = green!;
    processes.push(blue!, green!);
    await admin.waitServing(endpoint, 'blue', ['1']);
    await admin.waitServing(endpoint, 'green', ['2']);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deletePrefix(prefix);
  });

  // Bounded: the scoring machine is shared and slow; tolerances below are 4 sigma of n.
  const n = Number(process.env.E2E_ENDPOINT_REQUESTS ?? 1000);
  const tolerance = (p: number) => Math.max(5, 400 * Math.sqrt(((p / 100) * (1 - p / 100)) / n));

  const load = (n: number, headers: Record<string, string> = {}) =>
    runBounded(n, 16, (i) => scoreFaq(api.url, endpoint, undefined, FAQ_QUESTIONS[i % FAQ_QUESTIONS.length]!, headers));

  it('splits traffic by weight (blue 70, green 30)', async () => {
    await admin.setTraffic(endpoint, { blue: 70, green: 30 });
    const outcomes = await load(n);
    const counts = report('traffic 70/30', outcomes);
    assert.equal(counts[200], n, JSON.stringify(statusCounts(outcomes)));
    const split = byDeployment(outcomes);
    const blueShare = (100 * (split.blue ?? 0)) / n;
    console.log(
      `# traffic 70/30 over ${n}: blue ${split.blue ?? 0} (${blueShare.toFixed(1)}%), green ${split.green ?? 0}`,
    );
    assert.deepEqual(Object.keys(split).sort(), ['blue', 'green']);
    console.log(`# tolerance ±${tolerance(70).toFixed(1)} points (4 sigma for n=${n})`);
    assert.ok(Math.abs(blueShare - 70) <= tolerance(70), `blue share ${blueShare}% is not 70 ± ${tolerance(70)}`);
    for (const o of outcomes) {
      const d = o.headers!.get('x-deployment');
      assert.equal(o.body.deployment, d);
      assert.equal(o.body.version, d === 'blue' ? '1' : '2');
    }
  });

  it('pins a deployment with the x-deployment header', async () => {
    const outcomes = await load(50, { 'x-deployment': 'green' });
    report('pinned green', outcomes);
    assert.deepEqual(byDeployment(outcomes), { green: 50 });
    assert.ok(outcomes.every((o) => o.status === 200 && o.body.version === '2'));
  });

  it('refuses an unknown deployment in the header with 404', async () => {
    const res = await scoreFaq(api.url, endpoint, undefined, 'what is a closure', { 'x-deployment': 'purple' });
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /purple/);
  });

  it('accepts async requests by endpoint: 202, routed to a deployment, result by id', async () => {
    await admin.setTraffic(endpoint, { blue: 0, green: 100 });
    const friendly = await scoreFaq(api.url, endpoint, undefined, 'what is a closure', { prefer: 'respond-async' });
    assert.equal(friendly.status, 202, JSON.stringify(friendly.body));
    assert.equal(friendly.headers!.get('x-deployment'), 'green');
    const oip = await send(
      `${api.url}/v2/endpoints/${endpoint}/infer?async=true`,
      { id: 'oip-async', inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['how to merge two arrays'] }] },
      { headers: { 'x-deployment': 'blue' } },
    );
    assert.equal(oip.status, 202, JSON.stringify(oip.body));
    assert.equal(oip.headers!.get('x-deployment'), 'blue', 'the header pins async requests too');
    const finished = async (location: string) => {
      for (let i = 0; i < 200; i++) {
        const job = await getJson(`${api.url}${location}`);
        if (job.body.status !== 'queued' && job.body.status !== 'running') return job.body;
        await sleep(50);
      }
      throw new Error(`${location} did not finish`);
    };
    const [a, b] = await Promise.all([finished(friendly.body.location), finished(oip.body.location)]);
    console.log(`# async by endpoint: ${JSON.stringify(a).slice(0, 160)} | ${JSON.stringify(b).slice(0, 160)}`);
    assert.equal(a.status, 'succeeded');
    assert.equal(a.result.version, '2', 'served by green (faq v2)');
    assert.ok(Array.isArray(a.result.predictions) && a.result.predictions.length > 0);
    assert.equal(b.status, 'succeeded');
    assert.equal(b.result.model_version, '1', 'served by blue (faq v1)');
    assert.equal(b.result.id, 'oip-async');
  });

  it('mirrors a share to green, never answering the caller from it', async () => {
    await admin.setTraffic(endpoint, { blue: 100 });
    await admin.setMirror(endpoint, 'green', 20);

    // Pinned requests are never mirrored.
    const greenBeforePinned = await servedBy(workers.green!.url);
    const pinned = await load(50, { 'x-deployment': 'blue' });
    assert.deepEqual(byDeployment(pinned), { blue: 50 });
    await sleep(1500);
    const greenAfterPinned = await servedBy(workers.green!.url);
    console.log(
      `# 50 pinned to blue with mirror 20%: green computed ${greenAfterPinned.succeeded! - greenBeforePinned.succeeded!}`,
    );
    assert.equal(greenAfterPinned.succeeded, greenBeforePinned.succeeded, 'pinned requests must not be mirrored');

    const blueBefore = await servedBy(workers.blue!.url);
    const greenBefore = await servedBy(workers.green!.url);
    const outcomes = await load(n);
    const counts = report('mirror 20%', outcomes);
    assert.equal(counts[200], n, JSON.stringify(statusCounts(outcomes)));
    assert.deepEqual(byDeployment(outcomes), { blue: n });
    const keys = (o: (typeof outcomes)[number]) =>
      Object.keys(o.body as object)
        .sort()
        .join(',');
    const shape = keys(outcomes[0]!);
    assert.ok(
      outcomes.every((o) => keys(o) === shape && o.body.deployment === 'blue' && o.body.version === '1'),
      'every caller answer comes from blue, in one shape',
    );

    // Mirror copies run on the side: wait until green's counters settle.
    let greenAfter = await servedBy(workers.green!.url);
    for (let stable = 0, i = 0; stable < 3 && i < 60; i++) {
      await sleep(500);
      const next = await servedBy(workers.green!.url);
      stable = JSON.stringify(next) === JSON.stringify(greenAfter) ? stable + 1 : 0;
      greenAfter = next;
    }
    const blueAfter = await servedBy(workers.blue!.url);
    const mirrored = greenAfter.succeeded! - greenBefore.succeeded!;
    const greenOther =
      greenAfter.failed! -
      greenBefore.failed! +
      (greenAfter.expired! - greenBefore.expired!) +
      (greenAfter.cancelled! - greenBefore.cancelled!);
    const share = (100 * mirrored) / n;
    console.log(
      `# mirror 20% over ${n}: blue computed ${blueAfter.succeeded! - blueBefore.succeeded!}, ` +
        `green computed ${mirrored} (${share.toFixed(1)}%), green failed/expired/cancelled ${greenOther}`,
    );
    assert.equal(blueAfter.succeeded! - blueBefore.succeeded!, n);
    console.log(`# tolerance ±${tolerance(20).toFixed(1)} points (4 sigma for n=${n})`);
    assert.ok(Math.abs(share - 20) <= tolerance(20), `mirrored share ${share}% is not 20 ± ${tolerance(20)}`);
    await admin.setMirror(endpoint, 'green', 0);
  });
});
