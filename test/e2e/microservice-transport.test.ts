import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { firstValueFrom, lastValueFrom, timeout } from 'rxjs';
import { SwitchyardClientProxy, SwitchyardRpcError, type ScoreResult } from '../../libs/client/src/index.js';
import { Fleet } from './support/fleet.js';
import { pollJob } from './support/jobs.js';
import { FIXTURE_MODELS, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

const tensors = (a: number[], b: number[]) => ({
  inputs: [
    { name: 'a', datatype: 'FP32', shape: [1, 4], data: a },
    { name: 'b', datatype: 'FP32', shape: [1, 4], data: b },
  ],
});

/** The NestJS ClientProxy over the same queues: two clients, two workers on one queue. */
describe('SwitchyardClientProxy (NestJS microservices transport)', () => {
  const prefix = freshPrefix('rpc');
  const fleet = new Fleet();
  const clients = [0, 1].map(
    (i) => new SwitchyardClientProxy({ url: REDIS_URL, prefix, instanceId: `test-client-${i}` }),
  );
  let api: ServiceProcess;

  before(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: FIXTURE_MODELS };
    await Promise.all([fleet.worker({ ...env, MODEL: 'sum' }), fleet.worker({ ...env, MODEL: 'sum' })]);
    api = await fleet.api(env);
    await Promise.all(clients.map((c) => c.connect()));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fleet.stopAll();
    await deletePrefix(prefix);
  });

  it('send: every reply reaches its own caller, over each client’s reply channel', async () => {
    const calls = Array.from({ length: 60 }, (_, i) => {
      const client = clients[i % 2]!;
      const a = [i, i + 1, i + 2, i + 3];
      return firstValueFrom(
        client.send<ScoreResult>('score.sum', tensors(a, [1000, 1000, 1000, 1000])).pipe(timeout(20_000)),
      ).then((result) => ({ i, a, result }));
    });
    for (const { a, result } of await Promise.all(calls)) {
      assert.equal(result.model, 'sum');
      assert.equal(result.version, '2');
      assert.deepEqual(
        result.outputs!.find((o) => o.name === 'sum')!.data,
        a.map((x) => x + 1000),
      );
    }
  });

  it('send: selects a version and outputs, and fails with a typed error on bad payloads', async () => {
    const v1 = await lastValueFrom(
      clients[0]!.send<ScoreResult>('score.sum', {
        ...tensors([1, 2, 3, 4], [0, 0, 0, 0]),
        version: '1',
        outputs: [{ name: 'diff' }],
      }),
    );
    assert.equal(v1.version, '1');
    assert.deepEqual(
      v1.outputs!.map((o) => o.name),
      ['diff'],
    );
    const failures: [string, unknown, number, RegExp][] = [
      ['score.nope', tensors([1, 2, 3, 4], [1, 2, 3, 4]), 404, /model 'nope' not found/],
      ['score.sum', { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, 400, /input 'a'/],
      ['score.sum', { text: 'hello' }, 400, /takes tensors only/],
      ['score.sum', { ...tensors([1, 2, 3, 4], [1, 2, 3, 4]), version: '9' }, 404, /no version '9'/],
      ['predict.sum', tensors([1, 2, 3, 4], [1, 2, 3, 4]), 400, /use 'score.<model>'/],
    ];
    for (const [pattern, data, status, message] of failures) {
      await assert.rejects(lastValueFrom(clients[1]!.send(pattern, data)), (err: unknown) => {
        assert.ok(err instanceof SwitchyardRpcError, String(err));
        assert.equal(err.status, status, err.message);
        assert.match(err.message, message);
        return true;
      });
    }
  });

  it('emit: enqueues a low-priority async job whose outcome the API serves by id', async () => {
    const emitted = await Promise.all(
      clients.map((c, i) => lastValueFrom(c.emit<{ id: string }>('score.sum', tensors([i, i, i, i], [1, 1, 1, 1])))),
    );
    for (const [i, { id }] of emitted.entries()) {
      const { body } = await pollJob(api.url, id);
      assert.equal(body.status, 'succeeded');
      assert.deepEqual(body.result.outputs.find((o: any) => o.name === 'sum').data, [i + 1, i + 1, i + 1, i + 1]);
    }
  });
});
