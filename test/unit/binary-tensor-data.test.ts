import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBinaryInferBody } from '../../apps/api/src/http/binary-body.js';
import { decodeBinaryInfer, encodeBinaryInfer } from '../../libs/client/src/http/binary-infer.js';
import type { InputTensor, ScoringJob, TensorSpec } from '../../libs/contracts/src/index.js';
import { ScoringError } from '../../libs/contracts/src/index.js';
import { binaryTensorData } from '../../libs/runtime/src/tensor/binary-data.js';
import { validateInputs } from '../../libs/runtime/src/tensor/request-validation.js';
import { toOrtTensor } from '../../libs/runtime/src/tensor/tensor-codec.js';
import { attachBlobs, BLOB_MIN_BYTES, detachBlobs } from '../../libs/runtime/src/transport/job-blobs.js';

/** `bytes` at an odd offset of a larger buffer, as a slice of a request body is. */
function unaligned(bytes: Uint8Array): Uint8Array {
  const host = Buffer.alloc(bytes.byteLength + 1);
  host.set(bytes, 1);
  return host.subarray(1);
}

const asBytes = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

const signature = (inputs: TensorSpec[]) => ({ name: 'm', inputs, outputs: [], maxBatchSize: 8 });

describe('binary tensor data', () => {
  it('builds the same onnxruntime tensor from unaligned bytes as from JSON numbers', () => {
    const cases: [InputTensor['datatype'], number[], ArrayBufferView][] = [
      ['FP32', [0.5, -2, 3.25], new Float32Array([0.5, -2, 3.25])],
      ['FP64', [Math.PI, -0.1, 1e300], new Float64Array([Math.PI, -0.1, 1e300])],
      ['INT64', [-(2 ** 53) + 1, 7, -1], new BigInt64Array([-(2n ** 53n) + 1n, 7n, -1n])],
      ['UINT16', [0, 65535, 3], new Uint16Array([0, 65535, 3])],
      ['INT8', [-128, 127, 0], new Int8Array([-128, 127, 0])],
      ['FP16', [1, -2, 65504], new Uint16Array([0x3c00, 0xc000, 0x7bff])],
    ];
    for (const [datatype, numbers, typed] of cases) {
      const shape = [1, 3];
      const fromJson = toOrtTensor({ name: 'x', datatype, shape, data: numbers });
      const fromBytes = toOrtTensor({ name: 'x', datatype, shape, data: unaligned(asBytes(typed)) });
      assert.equal(fromBytes.type, fromJson.type, datatype);
      assert.deepEqual(fromBytes.dims, fromJson.dims);
      assert.deepEqual(fromBytes.data, fromJson.data, datatype);
    }
  });

  it('views bytes that fill a buffer of their own (a blob from Redis) and copies slices of a larger one', () => {
    const values = new Float32Array([1.5, -2, 4]);
    // As a Redis reply of a large bulk string is: a buffer of exactly its bytes.
    const own = Buffer.from(values.buffer.slice(0));
    const viewed = toOrtTensor({ name: 'x', datatype: 'FP32', shape: [1, 3], data: own });
    assert.deepEqual(viewed.data, values);
    assert.ok((viewed.data as Float32Array).buffer === own.buffer, 'no copy of an owned, aligned buffer');
    // A slice at offset 0 of a larger buffer: a view would drag the rest along.
    const host = new Uint8Array(64);
    host.set(new Uint8Array(values.buffer));
    const slice = toOrtTensor({ name: 'x', datatype: 'FP32', shape: [1, 3], data: host.subarray(0, 12) });
    assert.deepEqual(slice.data, values);
    assert.ok((slice.data as Float32Array).buffer !== host.buffer);
    assert.equal((slice.data as Float32Array).buffer.byteLength, 12);
  });
  it('checks sizes, BOOL bytes and BYTES elements, naming the input', () => {
    const check = (datatype: InputTensor['datatype'], bytes: Uint8Array | string, size = 0) =>
      binaryTensorData('x', datatype, [2], bytes, typeof bytes === 'string' ? size : bytes.byteLength);
    assert.throws(
      () => check('FP32', new Uint8Array(4)),
      /input 'x': binary data of 4 bytes does not fit shape \[2\] of FP32 \(8 bytes\)/,
    );
    assert.throws(
      () => binaryTensorData('x', 'FP32', [2], new Uint8Array(8), 16),
      /binary_data_size is 16, but 8 bytes/,
    );
    assert.throws(() => check('BOOL', new Uint8Array([0, 3])), /BOOL element 1 is byte 3/);
    assert.deepEqual(check('BOOL', new Uint8Array([0, 1])), new Uint8Array([0, 1]));
    const strings = Buffer.from([2, 0, 0, 0, 0x68, 0x69, 0, 0, 0, 0]);
    assert.deepEqual(check('BYTES', strings), ['hi', '']);
    assert.throws(() => check('BYTES', strings.subarray(0, 8)), /BYTES element 1: its 4-byte length runs past the end/);
    assert.throws(() => check('BYTES', Buffer.from([9, 0, 0, 0, 1])), /BYTES element 0: its 9 bytes run past the end/);
    assert.throws(() => binaryTensorData('x', 'BYTES', [3], strings, 10), /holds 2 BYTES elements, the shape needs 3/);
    // Small binary data comes back from Redis as base64 text.
    assert.deepEqual(check('UINT8', Buffer.from([1, 2]).toString('base64'), 2), Buffer.from([1, 2]));
    assert.throws(() => check('UINT8', [1, 2] as unknown as Uint8Array), ScoringError);
  });

  it('validation keeps bytes with their marker and turns BYTES into strings', () => {
    const model = signature([
      { name: 'x', datatype: 'FP32', shape: [-1, 2] },
      { name: 's', datatype: 'BYTES', shape: [-1, 1] },
    ]);
    const x = asBytes(new Float32Array([1, 2]));
    const { inputs, rows } = validateInputs(model, [
      { name: 'x', datatype: 'FP32', shape: [1, 2], data: x, parameters: { binary_data_size: 8 } },
      {
        name: 's',
        datatype: 'BYTES',
        shape: [1, 1],
        data: Buffer.from([1, 0, 0, 0, 0x7a]),
        parameters: { binary_data_size: 5 },
      },
    ]);
    assert.equal(rows, 1);
    assert.deepEqual(inputs[0], {
      name: 'x',
      datatype: 'FP32',
      shape: [1, 2],
      data: x,
      parameters: { binary_data_size: 8 },
    });
    assert.deepEqual(inputs[1], { name: 's', datatype: 'BYTES', shape: [1, 1], data: ['z'], parameters: undefined });
  });

  it('jobs carry small binary inputs as base64 and large ones as blobs, and validate either way', () => {
    const model = signature([{ name: 'x', datatype: 'UINT8', shape: [-1, -1] }]);
    for (const size of [16, BLOB_MIN_BYTES]) {
      const bytes = Buffer.alloc(size, 7);
      const input = {
        name: 'x',
        datatype: 'UINT8' as const,
        shape: [1, size],
        data: bytes,
        parameters: { binary_data_size: size },
      };
      const job: ScoringJob = {
        id: 'j',
        model: 'm',
        kind: 'tensors',
        inputs: [input],
        replyTo: 'r',
        deadline: 1,
        acceptedAt: 0,
      };
      const { job: sent, blobs } = detachBlobs(job);
      const wire = JSON.parse(JSON.stringify(sent)) as ScoringJob;
      const back =
        size < BLOB_MIN_BYTES
          ? wire
          : attachBlobs(
              wire,
              blobs.map((b) => Buffer.from(b)),
            );
      assert.equal(blobs.length, size < BLOB_MIN_BYTES ? 0 : 1, `${size} bytes`);
      assert.equal(typeof wire.inputs![0]!.data, size < BLOB_MIN_BYTES ? 'string' : 'object');
      assert.deepEqual(validateInputs(model, back.inputs!).inputs[0]!.data, bytes);
      assert.equal(job.inputs![0]!.data, bytes, 'the original job is untouched');
    }
  });

  it('the client encoding parses back on the server without copying the tensor bytes', () => {
    const x = new Float32Array([1, 2, 3]);
    const { body, jsonLength } = encodeBinaryInfer({
      id: 'r',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [3], data: x },
        { name: 's', datatype: 'BYTES', shape: [1], data: ['ok'] },
      ],
    });
    const parsed = parseBinaryInferBody(body, String(jsonLength)) as {
      id: string;
      parameters: object;
      inputs: { data: Buffer }[];
    };
    assert.equal(parsed.id, 'r');
    assert.deepEqual(parsed.parameters, { binary_data_output: true });
    assert.deepEqual(parsed.inputs[0]!.data, Buffer.from(x.buffer));
    assert.equal(parsed.inputs[0]!.data.buffer, body.buffer, 'a view of the body');
    assert.deepEqual(parsed.inputs[1]!.data, Buffer.from([2, 0, 0, 0, 0x6f, 0x6b]));
    assert.throws(() => parseBinaryInferBody(body, undefined), /needs the Inference-Header-Content-Length header/);
    assert.throws(() => parseBinaryInferBody(body, ['1', '2']), /Inference-Header-Content-Length must be/);
  });

  it('the client decodes binary outputs into typed arrays and leaves JSON outputs alone', () => {
    const head = Buffer.from(
      JSON.stringify({
        model_name: 'm',
        model_version: '1',
        id: '',
        outputs: [
          { name: 'y', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
          { name: 'j', datatype: 'FP32', shape: [1], data: [0.5] },
          { name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } },
        ],
      }),
    );
    const body = Buffer.concat([
      head,
      Buffer.from(new BigInt64Array([-3n, 4n]).buffer),
      Buffer.from([1, 0, 0, 0, 0x21]),
    ]);
    const res = decodeBinaryInfer(body, head.length);
    assert.deepEqual(res.outputs[0]!.data, new BigInt64Array([-3n, 4n]));
    assert.deepEqual(res.outputs[1]!.data, [0.5]);
    assert.deepEqual(res.outputs[2]!.data, ['!']);
  });
});
