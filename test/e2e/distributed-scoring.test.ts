import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, postJson, sumRequest } from './support/http.js';
import { FIXTURE_MODELS, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/** One API and real workers on real Redis, scored over HTTP with the Open Inference Protocol. */
describe('distributed scoring over Redis (OIP v2)', () => {
  const prefix = freshPrefix('dist');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: FIXTURE_MODELS };
  let api: ServiceProcess;
  const workers: ServiceProcess[] = [];

  before(async () => {
    workers.push(await startWorker({ ...env, MODEL: 'sum' }), await startWorker({ ...env, MODEL: 'echo' }));
    api = await startApi(env);
  });

  after(async () => {
    await Promise.all([api?.stop(), ...workers.map((w) => w.stop())]);
    await deletePrefix(prefix);
  });

  it('describes the server, its health and the models workers announce', async () => {
    assert.deepEqual((await getJson(`${api.url}/v2`)).body.name, 'switchyard');
    assert.equal((await getJson(`${api.url}/v2/health/live`)).status, 200);
    assert.equal((await getJson(`${api.url}/v2/health/ready`)).status, 200);
    const meta = await getJson(`${api.url}/v2/models/sum`);
    assert.equal(meta.status, 200);
    assert.deepEqual(meta.body.versions, ['2', '1']);
    assert.equal(meta.body.platform, 'onnxruntime_onnx');
    assert.deepEqual(meta.body.inputs, [
      { name: 'a', datatype: 'FP32', shape: [-1, 4] },
      { name: 'b', datatype: 'FP32', shape: [-1, 4] },
    ]);
    const v1 = await getJson(`${api.url}/v2/models/sum/versions/1`);
    assert.deepEqual(v1.body.versions, ['1']);
    assert.equal((await getJson(`${api.url}/v2/models/sum/ready`)).status, 200);
    assert.equal((await getJson(`${api.url}/v2/models/sum/versions/2/ready`)).status, 200);
  });

  it('scores a request and echoes its id; the newest version serves unversioned requests', async () => {
    const res = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [10, 20, 30, 40], 'req-1'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.id, 'req-1');
    assert.equal(res.body.model_name, 'sum');
    assert.equal(res.body.model_version, '2');
    const byName = Object.fromEntries(res.body.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(byName.sum, { name: 'sum', datatype: 'FP32', shape: [1, 4], data: [11, 22, 33, 44] });
    assert.deepEqual(byName.diff.data, [9, 18, 27, 36]); // version 2 computes b - a
    assert.match(res.headers.get('server-timing') ?? '', /inference;dur=/);
  });

  it('routes a versioned request to that version', async () => {
    const res = await postJson(`${api.url}/v2/models/sum/versions/1/infer`, sumRequest([1, 2, 3, 4], [10, 20, 30, 40]));
    assert.equal(res.status, 200);
    assert.equal(res.body.model_version, '1');
    assert.deepEqual(res.body.outputs.find((o: any) => o.name === 'diff').data, [-9, -18, -27, -36]);
  });

  it('accepts nested row-major data and several rows, and returns only the outputs asked for', async () => {
    const res = await postJson(`${api.url}/v2/models/sum/infer`, {
      inputs: [
        {
          name: 'a',
          datatype: 'FP32',
          shape: [2, 4],
          data: [
            [1, 1, 1, 1],
            [2, 2, 2, 2],
          ],
        },
        { name: 'b', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] },
      ],
      outputs: [{ name: 'sum' }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.outputs, [
      { name: 'sum', datatype: 'FP32', shape: [2, 4], data: [2, 3, 4, 5, 7, 8, 9, 10] },
    ]);
  });

  it('round-trips every datatype through the queue', async () => {
    const inputs = [
      { name: 'x_bool', datatype: 'BOOL', data: [true, false] },
      { name: 'x_uint8', datatype: 'UINT8', data: [0, 255] },
      { name: 'x_int8', datatype: 'INT8', data: [-128, 127] },
      { name: 'x_int32', datatype: 'INT32', data: [-2147483648, 2147483647] },
      { name: 'x_int64', datatype: 'INT64', data: [-9007199254740991, 9007199254740991] },
      { name: 'x_fp16', datatype: 'FP16', data: [0.5, -2] },
      { name: 'x_fp32', datatype: 'FP32', data: [1.5, -0.25] },
      { name: 'x_fp64', datatype: 'FP64', data: [Math.PI, -1e300] },
      { name: 'x_bytes', datatype: 'BYTES', data: ['héllo', ''] },
    ].map((t) => ({ ...t, shape: [1, 2] }));
    const res = await postJson(`${api.url}/v2/models/echo/infer`, { inputs });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const input of inputs) {
      const out = res.body.outputs.find((o: any) => o.name === input.name.replace('x_', 'y_'));
      assert.deepEqual(out, { name: out.name, datatype: input.datatype, shape: [1, 2], data: input.data }, input.name);
    }
  });

  it('refuses bad requests with a 4xx JSON error naming the problem, before enqueueing', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      ['/v2/models/nope/infer', sumRequest([1, 2, 3, 4], [1, 2, 3, 4]), 404, /model 'nope' not found/],
      ['/v2/models/sum/versions/7/infer', sumRequest([1, 2, 3, 4], [1, 2, 3, 4]), 404, /no version '7'/],
      ['/v2/models/sum/infer', sumRequest([1, 2, 3], [1, 2, 3, 4]), 400, /input 'a'.*expected 4 elements/],
      [
        '/v2/models/sum/infer',
        { inputs: [{ name: 'a', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }] },
        400,
        /input 'a': datatype INT32/,
      ],
      [
        '/v2/models/sum/infer',
        { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] },
        400,
        /missing 'b'/,
      ],
      [
        '/v2/models/sum/infer',
        { inputs: [{ name: 'zz', datatype: 'FP32', shape: [1], data: [1] }] },
        400,
        /no such input/,
      ],
      [
        '/v2/models/sum/infer',
        { ...(sumRequest([1, 2, 3, 4], [1, 2, 3, 4]) as object), outputs: [{ name: 'nah' }] },
        400,
        /output 'nah'/,
      ],
      ['/v2/models/sum/infer', { inputs: 'x' }, 400, /inputs/],
      ['/v2/models/sum/infer', '{"inputs": [', 400, /JSON/],
    ];
    for (const [path, body, status, message] of cases) {
      const res = await postJson(api.url + path, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, message);
    }
    assert.equal((await getJson(`${api.url}/v2/models/nope`)).status, 404);
    assert.equal((await getJson(`${api.url}/v2/models/sum/versions/9/ready`)).status, 404);
  });

  it('lets a request lower its timeout but never raise it', async () => {
    const low = await postJson(`${api.url}/v2/models/sum/infer`, {
      ...(sumRequest([1, 1, 1, 1], [1, 1, 1, 1]) as object),
      parameters: { timeout_ms: 5000 },
    });
    assert.equal(low.status, 200);
    const bad = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 1, 1, 1], [1, 1, 1, 1]), {
      'x-timeout-ms': '-5',
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /timeout_ms/);
  });
});
