import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SwitchyardHttpClient, type BinaryInput } from '#client';
import { postJson, sumRequest } from './support/http.js';
import { REFERENCE_MODELS, removeRepo, tempRepo } from './support/model-repo.js';
import { FIXTURE_MODELS, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { deletePrefix, freshPrefix, REDIS_URL } from './support/redis.js';

/** A binary request body: JSON of `json`, then `tail`, with the header naming the JSON's length. */
function binaryBody(json: unknown, tail: Buffer, header?: string): RequestInit {
  const head = Buffer.from(JSON.stringify(json));
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      ...(header === 'none' ? {} : { 'inference-header-content-length': header ?? String(head.length) }),
    },
    body: Buffer.concat([head, tail]),
  };
}

const f32 = (values: number[]): Buffer => Buffer.from(new Float32Array(values).buffer);

/** One FP32 image row of the fashion model: a gradient, different per `seed`. */
function image(seed: number): number[] {
  return Array.from({ length: 28 * 28 }, (_, i) => ((i * (seed + 3)) % 256) / 255);
}

/**
 * The binary tensor data extension (Triton's, KServe's) through Redis: raw little-endian
 * tensors after the JSON, in and out, answered exactly as the same request in JSON; small
 * tensors travel inside the job, large ones as blobs beside it; every malformed body is a 400
 * that names the problem.
 */
describe('binary tensor data through Redis', () => {
  const prefix = freshPrefix('binary');
  const procs: ServiceProcess[] = [];
  let repo: string;
  let api: ServiceProcess;
  let client: SwitchyardHttpClient;

  before(async () => {
    repo = await tempRepo([
      { name: 'sum' },
      { name: 'echo' },
      { name: 'fashion', from: join(REFERENCE_MODELS, 'fashion') },
    ]);
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: repo };
    procs.push(
      ...(await Promise.all(['sum', 'echo', 'fashion'].map((model) => startWorker({ ...env, MODEL: model })))),
    );
    api = await startApi(env);
    procs.push(api);
    client = new SwitchyardHttpClient({ baseUrl: api.url, retries: 0 });
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all([deletePrefix(prefix), removeRepo(repo)]);
  });

  it('the server metadata lists the extension', async () => {
    const meta = (await (await fetch(`${api.url}/v2`)).json()) as { extensions: string[] };
    assert.ok(meta.extensions.includes('binary_tensor_data'));
  });

  it('answers binary inputs and outputs of every datatype exactly as sent', async () => {
    const inputs: BinaryInput[] = [
      { name: 'x_bool', datatype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
      { name: 'x_uint8', datatype: 'UINT8', shape: [2, 2], data: new Uint8Array([255, 7, 0, 1]) },
      { name: 'x_int8', datatype: 'INT8', shape: [2, 2], data: new Int8Array([-128, 5, 127, 0]) },
      { name: 'x_int32', datatype: 'INT32', shape: [2, 2], data: new Int32Array([-5, 2 ** 31 - 1, -(2 ** 31), 3]) },
      { name: 'x_int64', datatype: 'INT64', shape: [2, 2], data: new BigInt64Array([-(2n ** 53n) + 1n, 9n, 0n, -1n]) },
      { name: 'x_fp16', datatype: 'FP16', shape: [2, 2], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) },
      { name: 'x_fp32', datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.5, -1e30, 3.25, 1e-40]) },
      { name: 'x_fp64', datatype: 'FP64', shape: [2, 2], data: new Float64Array([Math.PI, -2.5, 1e300, 5e-324]) },
      { name: 'x_bytes', datatype: 'BYTES', shape: [2, 2], data: ['héllo', '', 'a b', '🙂'] },
    ];
    const res = await client.inferBinary('echo', { id: 'bin-1', inputs });
    assert.equal(res.id, 'bin-1');
    for (const input of inputs) {
      const out = res.outputs.find((o) => o.name === input.name.replace('x_', 'y_'))!;
      assert.equal(out.datatype, input.datatype);
      assert.deepEqual(out.shape, [2, 2]);
      assert.deepEqual(out.data, input.data, input.name);
    }
  });

  it('gives the same answer as JSON, with outputs in JSON unless asked for in binary', async () => {
    const json = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [0.5, 1, 1, 1]));
    const inputs = [
      { name: 'a', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
      { name: 'b', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
    ];
    const tail = Buffer.concat([f32([1, 2, 3, 4]), f32([0.5, 1, 1, 1])]);
    const mixed = await fetch(`${api.url}/v2/models/sum/infer`, binaryBody({ inputs }, tail));
    assert.equal(mixed.status, 200);
    assert.match(mixed.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(((await mixed.json()) as typeof json.body).outputs, json.body.outputs);

    // One output in binary: its bytes follow the JSON; the other stays JSON.
    const outputs = [{ name: 'sum', parameters: { binary_data: true } }, { name: 'diff' }];
    const one = await fetch(`${api.url}/v2/models/sum/infer`, binaryBody({ inputs, outputs }, tail));
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('content-type'), 'application/octet-stream');
    const body = Buffer.from(await one.arrayBuffer());
    const jsonLength = Number(one.headers.get('inference-header-content-length'));
    const head = JSON.parse(body.toString('utf8', 0, jsonLength));
    assert.deepEqual(head.outputs[0].parameters, { binary_data_size: 16 });
    assert.equal(head.outputs[0].data, undefined);
    assert.deepEqual(Array.from(new Float32Array(body.buffer.slice(body.byteOffset + jsonLength))), [1.5, 3, 4, 5]);
    assert.deepEqual(head.outputs[1].data, json.body.outputs[1].data);
  });

  it('carries small tensors inside the job and large ones as blobs, with equal answers', async () => {
    for (const rows of [1, 4]) {
      const pixels = Array.from({ length: rows }, (_, r) => image(r)).flat();
      const json = await postJson(`${api.url}/v2/models/fashion/infer`, {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 1, 28, 28], data: pixels }],
      });
      assert.equal(json.status, 200, JSON.stringify(json.body));
      const binary = await client.inferBinary('fashion', {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 1, 28, 28], data: new Float32Array(pixels) }],
      });
      // 3,136 bytes travel as base64 in the job; 12,544 as a blob (8 KiB and up).
      assert.deepEqual(Array.from(binary.outputs[0]!.data as Float32Array), json.body.outputs[0].data, `${rows} rows`);
    }
  });

  it('refuses malformed binary bodies with a 400 naming the problem', async () => {
    const url = `${api.url}/v2/models/sum/infer`;
    const input = (name: string, size: number, extra: object = {}) => ({
      name,
      datatype: 'FP32',
      shape: [1, 4],
      parameters: { binary_data_size: size },
      ...extra,
    });
    const two = Buffer.concat([f32([1, 2, 3, 4]), f32([1, 1, 1, 1])]);
    const cases: [string, RequestInit, RegExp][] = [
      [
        'no header',
        binaryBody({ inputs: [input('a', 16), input('b', 16)] }, two, 'none'),
        /needs the Inference-Header-Content-Length header/,
      ],
      ['header past the end', binaryBody({ inputs: [] }, two, '99999'), /Inference-Header-Content-Length must be/],
      ['header not a number', binaryBody({ inputs: [] }, two, 'ten'), /Inference-Header-Content-Length must be/],
      ['JSON cut short', binaryBody({ inputs: [input('a', 16), input('b', 16)] }, two, '20'), /does not parse/],
      [
        'size past the end',
        binaryBody({ inputs: [input('a', 16), input('b', 32)] }, two),
        /input 'b': parameters.binary_data_size 32 runs past the end/,
      ],
      [
        'unclaimed bytes',
        binaryBody({ inputs: [input('a', 16), input('b', 8)] }, two),
        /8 bytes after the JSON are not claimed/,
      ],
      [
        'size against shape',
        binaryBody({ inputs: [input('a', 12), input('b', 20)] }, two),
        /input 'a': binary data of 12 bytes does not fit shape \[1,4\] of FP32 \(16 bytes\)/,
      ],
      [
        'negative size',
        binaryBody({ inputs: [input('a', -16), input('b', 16)] }, two),
        /input 'a': parameters.binary_data_size must be a non-negative integer/,
      ],
      [
        'data and size',
        binaryBody({ inputs: [input('a', 16, { data: [1, 2, 3, 4] }), input('b', 16)] }, two),
        /input 'a': has both data and parameters.binary_data_size/,
      ],
      [
        'flag not boolean',
        binaryBody({ inputs: [input('a', 16), input('b', 16)], parameters: { binary_data_output: 'yes' } }, two),
        /parameters.binary_data_output: must be a boolean/,
      ],
      [
        'size in a JSON body',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [input('a', 16, { data: 'AAAAAAAAAAAAAAAAAAAAAA==' }), input('b', 16, { data: [] })],
          }),
        },
        /input 'a': parameters.binary_data_size needs a binary body/,
      ],
    ];
    for (const [what, init, message] of cases) {
      const res = await fetch(url, init);
      assert.equal(res.status, 400, what);
      assert.match(((await res.json()) as { error: string }).error, message, what);
    }
    const bools = await fetch(
      `${api.url}/v2/models/echo/infer`,
      binaryBody(
        { inputs: [{ name: 'x_bool', datatype: 'BOOL', shape: [1, 2], parameters: { binary_data_size: 2 } }] },
        Buffer.from([1, 2]),
      ),
    );
    assert.equal(bools.status, 400);
    assert.match(((await bools.json()) as { error: string }).error, /input 'x_bool': BOOL element 1 is byte 2/);
    const bytes = await fetch(
      `${api.url}/v2/models/echo/infer`,
      binaryBody(
        { inputs: [{ name: 'x_bytes', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: 6 } }] },
        Buffer.from([1, 0, 0, 0, 65, 9]),
      ),
    );
    assert.equal(bytes.status, 400);
    assert.match(
      ((await bytes.json()) as { error: string }).error,
      /input 'x_bytes': BYTES element 1: its 4-byte length runs past the end/,
    );
  });

  it('refuses binary outputs for async requests, whose results are JSON', async () => {
    const res = await fetch(`${api.url}/v2/models/sum/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({
        ...(sumRequest([1, 2, 3, 4], [1, 1, 1, 1]) as object),
        parameters: { binary_data_output: true },
      }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /not available for async requests/);
  });
});

describe('binary tensor data in the embedded topology', () => {
  let api: ServiceProcess;

  before(async () => {
    api = await startApi({ MODEL_REPOSITORY: FIXTURE_MODELS });
  });

  after(async () => {
    await api?.stop();
  });

  it('answers a binary request in process, bytes handed to the session as they are', async () => {
    const client = new SwitchyardHttpClient({ baseUrl: api.url, retries: 0 });
    const res = await client.inferBinary('sum', {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 4], data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]) },
        { name: 'b', datatype: 'FP32', shape: [2, 4], data: new Float32Array([1, 1, 1, 1, 2, 2, 2, 2]) },
      ],
      outputs: [{ name: 'sum' }],
    });
    assert.deepEqual(
      res.outputs.map((o) => o.name),
      ['sum'],
    );
    assert.deepEqual(res.outputs[0]!.data, new Float32Array([2, 3, 4, 5, 7, 8, 9, 10]));
  });
});
